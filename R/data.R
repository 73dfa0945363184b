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
