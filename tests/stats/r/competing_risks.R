# Reference numbers for rrball.stats competing risks (issue 4): cumulative incidence with Gray's
# variance (cmprsk::cuminc / timepoints), Gray's K-sample test, Fine-Gray regression (cmprsk::crr).
# KMsurv bmt: relapse (cause 1) against death in remission (non-relapse mortality, cause 2) on the
# disease-free survival time; and a simulated data set with three causes and tied times.
suppressPackageStartupMessages({ library(cmprsk); library(KMsurv) })
SCRIPT <- "competing_risks.R"

data(bmt, package = "KMsurv")
crbmt <- data.frame(time = bmt$t2, status = ifelse(bmt$d2 == 1, 1L, ifelse(bmt$d1 == 1, 2L, 0L)),
                    group = bmt$group, age = bmt$z1, fab = bmt$z8, mtx = bmt$z10, sex = bmt$z3)
write_data(crbmt, "bmt_competing.csv")
set.seed(20261123)
n <- 300
sim <- data.frame(time = round(rexp(n, 0.1), 1) + 0.1,
                  status = sample(0:3, n, replace = TRUE, prob = c(0.25, 0.35, 0.25, 0.15)),
                  arm = sample(c("A", "B", "C"), n, replace = TRUE),
                  x = round(rnorm(n), 3), centre = sample(c("c1", "c2"), n, replace = TRUE))
write_data(sim, "sim_competing.csv")


cif_case <- function(name, df, data_file, group = NULL, strata = NULL, rho = 0, times) {
  g <- if (is.null(group)) NULL else df[[group]]
  args <- list(ftime = df$time, fstatus = df$status, rho = rho)
  if (!is.null(g)) args$group <- g
  if (!is.null(strata)) args$strata <- df[[strata]]
  ci <- do.call(cuminc, args)
  curves <- setdiff(names(ci), "Tests")
  out <- list()
  for (nm in curves) {
    x <- ci[[nm]]
    out[[length(out) + 1]] <- list(name = nm, time = x$time, est = x$est, var = x$var)
  }
  tp <- timepoints(ci, times)
  vals <- list(group = group, strata = strata, rho = rho, curves = out, times = times,
               tp_names = rownames(tp$est), tp_est = tp$est, tp_var = tp$var)
  if (!is.null(ci$Tests))
    vals$tests <- list(causes = rownames(ci$Tests), stat = ci$Tests[, "stat"],
                       pv = ci$Tests[, "pv"], df = ci$Tests[, "df"])
  call <- sprintf("cuminc(time, status%s%s, rho = %s)",
                  if (is.null(group)) "" else paste0(", ", group),
                  if (is.null(strata)) "" else paste0(", strata = ", strata), rho)
  write_fixture(name, SCRIPT, data_file, call, vals)
}

cif_case("cuminc__bmt__group", crbmt, "bmt_competing.csv", group = "group",
         times = c(0, 100, 365, 730, 1000, 3000))
cif_case("cuminc__bmt__overall", crbmt, "bmt_competing.csv", times = c(50, 365, 2000))
cif_case("cuminc__bmt__group_strata_sex", crbmt, "bmt_competing.csv", group = "group",
         strata = "sex", times = c(365))
cif_case("cuminc__bmt__group_rho1", crbmt, "bmt_competing.csv", group = "group", rho = 1,
         times = c(365))
cif_case("cuminc__sim__arm", sim, "sim_competing.csv", group = "arm", times = c(1, 5, 10, 20, 40))
cif_case("cuminc__sim__arm_strata_centre_rho05", sim, "sim_competing.csv", group = "arm",
         strata = "centre", rho = 0.5, times = c(10))

crr_case <- function(name, df, data_file, covariates, failcode) {
  X <- model.matrix(as.formula(paste("~", paste(covariates, collapse = " + "))), df)[, -1, drop = FALSE]
  f <- crr(df$time, df$status, cov1 = X, failcode = failcode, cencode = 0,
           gtol = 1e-12, maxiter = 100)
  vals <- list(covariates = covariates, failcode = failcode, terms = colnames(X),
               coef = unname(f$coef), se = unname(sqrt(diag(f$var))), var = unname(f$var),
               loglik = f$loglik, loglik_null = f$loglik.null, converged = f$converged,
               score = unname(f$score), n = f$n,
               # summary.crr rounds its printout; the same quantities at full precision:
               p_value = unname(2 * pnorm(-abs(f$coef / sqrt(diag(f$var))))),
               lower = unname(exp(f$coef - qnorm(0.975) * sqrt(diag(f$var)))),
               upper = unname(exp(f$coef + qnorm(0.975) * sqrt(diag(f$var)))))
  call <- sprintf("crr(time, status, cov1 = model.matrix(~ %s)[, -1], failcode = %d, gtol = 1e-12)",
                  paste(covariates, collapse = " + "), failcode)
  write_fixture(name, SCRIPT, data_file, call, vals)
}
crbmt$group_f <- factor(crbmt$group)
crr_case("crr__bmt__relapse_group_age", crbmt, "bmt_competing.csv", c("group_f", "age"), 1L)
crr_case("crr__bmt__nrm_group_age_fab_mtx", crbmt, "bmt_competing.csv",
         c("group_f", "age", "fab", "mtx"), 2L)
crr_case("crr__sim__cause3_arm_x", sim, "sim_competing.csv", c("arm", "x"), 3L)
