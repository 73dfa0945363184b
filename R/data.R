#' Major earthquakes per year, 1900-2006
#'
#' The number of major earthquakes (magnitude 7 or greater) in the world in
#' each year from 1900 to 2006: the running example of Poisson hidden
#' Markov models in Zucchini, MacDonald and Langrock (2016).
#'
#' @format A data frame with 107 rows and 2 columns:
#' \describe{
#'   \item{year}{Calendar year, 1900 to 2006.}
#'   \item{count}{Number of earthquakes of magnitude 7 or more (integer).}
#' }
#' @source Zucchini, W., MacDonald, I. L. and Langrock, R. (2016). *Hidden
#'   Markov Models for Time Series: An Introduction Using R*, 2nd edition.
#'   Chapman & Hall/CRC, section 1.2 (data from the US Geological Survey,
#'   public domain).
#' @examples
#' fit <- fit_lvm(hmm(ef_poisson(), 2), earthquakes$count)
#' coef(fit)$emission
"earthquakes"

#' Attitudes towards surveys, General Social Survey 1982
#'
#' Answers of 1202 white respondents of the 1982 General Social Survey to
#' four questions about surveys: the classic example of latent class
#' analysis in McCutcheon (1987), with three latent classes ("ideal",
#' "believers", "sceptics").
#'
#' @format A data frame with 1202 rows and 4 factor columns:
#' \describe{
#'   \item{PURPOSE}{Purpose of surveys: Good, Depends, Waste of time.}
#'   \item{ACCURACY}{Accuracy of surveys: Mostly true, Not true.}
#'   \item{UNDERSTA}{Understanding of the questions: Good, Fair/Poor.}
#'   \item{COOPERAT}{Cooperation: Interested, Cooperative, Impatient.}
#' }
#' @source McCutcheon, A. L. (1987). *Latent Class Analysis*. Sage,
#'   Table 3.1; the data set as distributed with the poLCA package
#'   (GPL >= 2).
#' @examples
#' fit <- fit_lvm(mixture(ef_product(ef_categorical(3), ef_categorical(2),
#'   ef_categorical(2), ef_categorical(3)), 3), gss82)
#' logLik(fit)
"gss82"

#' Directions of turtles
#'
#' Directions (compass bearings) taken by 76 turtles after a treatment; a
#' bimodal circular sample, most turtles heading one way and some the
#' opposite way.
#'
#' @format A data frame with 76 rows and 2 columns:
#' \describe{
#'   \item{degrees}{Direction in degrees, 0 to 360 (integer).}
#'   \item{radians}{The same direction in radians.}
#' }
#' @source Stephens, M. A. (1969). Techniques for directional data.
#'   Technical Report 150, Department of Statistics, Stanford University;
#'   data set B.3 of Fisher, N. I. (1993). *Statistical Analysis of
#'   Circular Data*. Cambridge University Press (as distributed with the
#'   circular package, GPL-2).
#' @examples
#' fit <- fit_lvm(mixture(ef_von_mises(), 2), turtles["radians"])
#' coef(fit)
"turtles"
