# Time R on the response tasks: Rscript bench_response.R TASK N REPEATS -> JSON {"seconds": [...]}
# logistic: glm(binomial) + summary() (estimates and SEs; default control); fisher*: fisher.test.
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]; n <- as.integer(args[2]); repeats <- as.integer(args[3])
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
run <- if (task == "logistic") {
  d <- read.csv(file.path(here, "out", "logistic_1e6.csv"), nrows = n)
  function() summary(glm(y ~ x1 + x2 + x3 + x4 + x5, family = binomial, data = d))$coefficients
} else if (task == "fisher4x2") {
  m <- matrix(c(30, 40, 50, 20, 15, 12, 10, 5), 4)
  function() fisher.test(m)$p.value
} else {
  m <- matrix(c(21, 27, 28, 8, 5, 4, 9, 7, 7, 0, 15, 6), 3)
  function() fisher.test(m)$p.value
}
invisible(run())
secs <- numeric(repeats)
for (i in seq_len(repeats)) {
  t0 <- proc.time()[["elapsed"]]
  invisible(run())
  secs[i] <- proc.time()[["elapsed"]] - t0
}
cat(sprintf('{"seconds": [%s]}\n', paste(sprintf("%.6f", secs), collapse = ", ")))
