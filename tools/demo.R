# The main job: a real fit on a built-in data set. Chooses the number of
# Gaussian components for Old Faithful by BIC, prints the summary of the best
# fit and writes its plots to demo-output/.
library(harmonium)
dir.create("demo-output", showWarnings = FALSE)
sel <- select_k(ef_normal(2), faithful, k = 1:5, control = lvm_control(n_init = 3, seed = 1))
print(sel)
fit <- sel$fits[[as.character(sel$best$k)]]
print(summary(fit))
png("demo-output/faithful-mixture.png", width = 1400, height = 700, res = 120)
op <- par(mfrow = c(1, 2))
plot(fit, type = "density")
plot(sel)
par(op)
invisible(dev.off())
cat("wrote demo-output/faithful-mixture.png\n")
