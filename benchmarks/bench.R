# Time R on the same file: Rscript bench.R TASK N REPEATS -> JSON {"seconds": [...]}
# Timing inside R (proc.time elapsed), data loading not timed, one warm-up run.
# Tasks: km (survfit), logrank (survdiff), cox (coxph, Efron, 5 covariates), cif (cmprsk::cuminc
# by group, which includes Gray's test).
suppressPackageStartupMessages({ library(survival); library(cmprsk) })
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]; n <- as.integer(args[2]); repeats <- as.integer(args[3])
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
d <- read.csv(file.path(here, "out", "survival_1e6_v2.csv"), nrows = n)
run <- switch(task,
  km = function() survfit(Surv(time, event) ~ group, data = d),
  logrank = function() survdiff(Surv(time, event) ~ group, data = d),
  cox = function() coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = d),
  cif = function() cuminc(d$time, d$status, d$group))
invisible(run())
secs <- numeric(repeats)
for (i in seq_len(repeats)) {
  t0 <- proc.time()[["elapsed"]]
  invisible(run())
  secs[i] <- proc.time()[["elapsed"]] - t0
}
cat(sprintf('{"seconds": [%s]}\n', paste(sprintf("%.6f", secs), collapse = ", ")))
