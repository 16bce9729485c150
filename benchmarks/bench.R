# Time R survival on the same file: Rscript bench.R TASK N REPEATS -> JSON {"seconds": [...]}
# Timing inside R (proc.time elapsed), data loading not timed, one warm-up run.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]; n <- as.integer(args[2]); repeats <- as.integer(args[3])
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
d <- read.csv(file.path(here, "out", "survival_1e6.csv"), nrows = n)
run <- if (task == "km") {
  function() survfit(Surv(time, event) ~ group, data = d)
} else {
  function() survdiff(Surv(time, event) ~ group, data = d)
}
invisible(run())
secs <- numeric(repeats)
for (i in seq_len(repeats)) {
  t0 <- proc.time()[["elapsed"]]
  invisible(run())
  secs[i] <- proc.time()[["elapsed"]] - t0
}
cat(sprintf('{"seconds": [%s]}\n', paste(sprintf("%.6f", secs), collapse = ", ")))
