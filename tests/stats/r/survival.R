# Reference numbers for rrball.stats survival estimation (issue 3): Kaplan-Meier, log-rank,
# landmark, restricted mean survival time, median follow-up, near-tie handling.
# Run through make_fixtures.R (`make fixtures`); every number written comes from R's survival package.
suppressPackageStartupMessages({ library(survival); library(MASS); library(KMsurv) })
SCRIPT <- "survival.R"

# ---- data: exported once, read by both R (below) and the Python tests ---------------------------
lung_df <- survival::lung
lung_df$status <- lung_df$status - 1L   # R codes lung's status 1 = censored, 2 = dead; rrball takes 0/1
write_data(lung_df, "lung.csv")
veteran_df <- survival::veteran
write_data(veteran_df, "veteran.csv")
aml_df <- survival::aml
write_data(aml_df, "aml.csv")
gehan_df <- MASS::gehan
write_data(gehan_df, "gehan.csv")
data(bmt, package = "KMsurv"); bmt_df <- bmt
write_data(bmt_df, "bmt.csv")
# channing: left-truncated ages (entry at ageentry months, exit at age months); 4 rows have
# ageentry == age (zero-length intervals R refuses) and are dropped here, documented in the test.
data(channing, package = "KMsurv")
channing_df <- channing[channing$ageentry < channing$age, ]
write_data(channing_df, "channing.csv")
# Near ties: follow-up in years computed from dates (survival's "tiedtimes" vignette example).
ndata <- data.frame(id = 1:30, birth.dt = rep(as.Date("1953/03/10"), 30),
                    enroll.dt = as.Date("1993/03/10") + 1:30,
                    end.dt = as.Date("1996/10/21") + 1:30 + rep(1:10, 3),
                    status = rep(0:1, length = 30), x = 1:30)
ndata$enroll.age <- as.numeric(ndata$enroll.dt - ndata$birth.dt) / 365.25
ndata$end.age <- as.numeric(ndata$end.dt - ndata$birth.dt) / 365.25
neartie_df <- data.frame(id = ndata$id, status = ndata$status, arm = ndata$x %% 3,
                         fudays = as.numeric(ndata$end.dt - ndata$enroll.dt),
                         fuyrs = ndata$end.age - ndata$enroll.age)
write_data(neartie_df, "neartie.csv")
# Near ties close to 0 (early deaths in years): R's absolute tolerance merges them too.
nearzero_df <- data.frame(time = c(0.05, 0.05 + 5e-9, 0.1, 0.2, 0.3, 0.05 + 2e-9, 0.4, 0.15),
                          status = c(1, 1, 1, 0, 1, 1, 0, 1), arm = c(1, 2, 1, 2, 1, 2, 2, 1))
write_data(nearzero_df, "nearzero.csv")

# ---- helpers ------------------------------------------------------------------------------------
strata_labels <- function(fit) {
  if (is.null(fit$strata)) return(rep("all", length(fit$time)))
  rep(sub("^.*=", "", names(fit$strata)), fit$strata)
}
group_names <- function(fit) {
  if (is.null(fit$strata)) "all" else sub("^.*=", "", names(fit$strata))
}

km_values <- function(fit, times, probs = c(0.25, 0.5, 0.75), rmean = NULL) {
  s <- summary(fit, censored = TRUE)
  tab <- list(group = strata_labels(fit), time = fit$time, n_risk = fit$n.risk,
              n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv,
              std_err = s$std.err, std_err_cumhaz = fit$std.err,
              lower = fit$lower, upper = fit$upper)
  at <- function(ext) {
    a <- summary(fit, times = times, extend = ext)
    g <- if (is.null(a$strata)) rep("all", length(a$time)) else sub("^.*=", "", as.character(a$strata))
    list(group = g, time = a$time, n_risk = a$n.risk, n_event = a$n.event, n_censor = a$n.censor,
         surv = a$surv, std_err = a$std.err, lower = a$lower, upper = a$upper)
  }
  q <- quantile(fit, probs = probs)
  qm <- function(m) if (is.matrix(m)) m else matrix(m, nrow = 1)
  quant <- list(groups = group_names(fit), probs = probs,
                estimate = qm(q$quantile), lower = qm(q$lower), upper = qm(q$upper))
  st <- summary(fit, rmean = if (is.null(rmean)) "none" else rmean)$table
  if (is.null(dim(st))) st <- matrix(st, nrow = 1, dimnames = list(NULL, names(st)))
  pt <- list(groups = group_names(fit), n = st[, if ("records" %in% colnames(st)) "records" else "n"],
             events = st[, "events"], median = st[, "median"],
             lower = st[, grep("LCL", colnames(st))], upper = st[, grep("UCL", colnames(st))])
  if (!is.null(rmean)) { pt$rmean <- st[, "rmean"]; pt$se_rmean <- st[, "se(rmean)"]; pt$tau <- rmean }
  list(conf_type = fit$conf.type, table = tab, at_times = times, at = at(FALSE),
       at_extend = at(TRUE), quantile = quant, print = pt)
}

km_case <- function(name, data, data_file, time, event, group = NULL, entry = NULL,
                    conf_type = "log", times = NULL, rmean = NULL, extra = list()) {
  lhs <- if (is.null(entry)) sprintf("Surv(%s, %s)", time, event)
         else sprintf("Surv(%s, %s, %s)", entry, time, event)
  f <- as.formula(paste(lhs, "~", if (is.null(group)) "1" else group))
  fit <- survfit(f, data = data, conf.type = conf_type)
  if (is.null(times)) times <- pretty(c(0, max(data[[time]])), 6)
  call <- sprintf('survfit(%s, data = %s, conf.type = "%s")', deparse(f), sub("\\.csv$", "", data_file), conf_type)
  vals <- c(list(time = time, event = event, group = group, entry = entry), km_values(fit, times, rmean = rmean), extra)
  write_fixture(name, SCRIPT, data_file, call, vals)
}

lr_case <- function(name, data, data_file, time, event, group, strata = NULL, rho = 0) {
  rhs <- if (is.null(strata)) group else sprintf("%s + strata(%s)", group, strata)
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, rhs))
  sd <- survdiff(f, data = data, rho = rho)
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  call <- sprintf("survdiff(%s, data = %s, rho = %s)", deparse(f), sub("\\.csv$", "", data_file), rho)
  vals <- list(time = time, event = event, group = group, strata = strata, rho = rho,
               groups = sub("^.*=", "", names(sd$n)), n = as.vector(sd$n), observed = obs,
               expected = ex, variance = sd$var, statistic = sd$chisq,
               df = sum(ex > 0) - 1, p_value = sd$pvalue)
  write_fixture(name, SCRIPT, data_file, call, vals)
}

# ---- Kaplan-Meier -------------------------------------------------------------------------------
for (ct in c("log", "log-log", "plain", "logit", "arcsin"))
  km_case(sprintf("kaplan_meier__lung__sex_%s", ct), lung_df, "lung.csv", "time", "status", "sex",
          conf_type = ct, times = c(0, 100, 182.5, 365, 500, 730, 1000, 2000), rmean = 730)
km_case("kaplan_meier__lung__overall", lung_df, "lung.csv", "time", "status",
        times = c(0, 5, 11, 365, 1022, 1100), rmean = 1000)
km_case("kaplan_meier__veteran__celltype", veteran_df, "veteran.csv", "time", "status", "celltype",
        times = c(0, 30, 90, 180, 365, 999), rmean = 365)
km_case("kaplan_meier__veteran__trt_loglog", veteran_df, "veteran.csv", "time", "status", "trt",
        conf_type = "log-log", times = c(0, 30, 90, 180, 365, 999))
km_case("kaplan_meier__aml__x", aml_df, "aml.csv", "time", "status", "x",
        times = c(0, 5, 30, 45, 100, 200), rmean = 100)
# unsorted and repeated requested times (R sorts them and keeps the repeat), 90% intervals
km_case_level <- function(name, level) {
  fit <- survfit(Surv(time, status) ~ x, data = aml_df, conf.type = "log-log", conf.int = level)
  vals <- c(list(time = "time", event = "status", group = "x", entry = NULL, conf_level = level),
            km_values(fit, times = c(30, 5, 30, 0)))
  write_fixture(name, SCRIPT, "aml.csv",
                sprintf('survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log", conf.int = %s)', level),
                vals)
}
km_case_level("kaplan_meier__aml__x_loglog_90", 0.90)
km_case("kaplan_meier__gehan__treat", gehan_df, "gehan.csv", "time", "cens", "treat",
        times = c(0, 5, 10, 20, 35), rmean = 35)
km_case("kaplan_meier__bmt__os_group", bmt_df, "bmt.csv", "t1", "d1", "group",
        times = c(0, 100, 365, 730, 1000, 2000), rmean = 1000)
km_case("kaplan_meier__bmt__dfs_group", bmt_df, "bmt.csv", "t2", "d3", "group",
        times = c(0, 100, 365, 730, 1000, 2000), rmean = 1000)
# Male recipients (z3 == 1): ALL group's OS and DFS curves sit exactly at S = 0.5 over a stretch,
# so the median is the midpoint of that stretch.
km_case("kaplan_meier__bmt__os_group_male_half", bmt_df[bmt_df$z3 == 1, ], "bmt.csv", "t1", "d1", "group",
        times = c(0, 365, 730), extra = list(subset = "z3 == 1"))
km_case("kaplan_meier__bmt__dfs_group_male_half_loglog", bmt_df[bmt_df$z3 == 1, ], "bmt.csv", "t2", "d3",
        "group", conf_type = "log-log", times = c(0, 365, 730), extra = list(subset = "z3 == 1"))
# Left truncation: age at entry to the Channing House retirement centre.
km_case("kaplan_meier__channing__gender_entry", channing_df, "channing.csv", "age", "death", "gender",
        entry = "ageentry", times = c(800, 900, 1000, 1100, 1200))
# Near ties from dates: R merges them (timefix = TRUE), so years give the same curve as days.
km_case("kaplan_meier__neartie__years", neartie_df, "neartie.csv", "fuyrs", "status",
        times = c(0, 3.6, 3.65, 3.7, 4))
km_case("kaplan_meier__nearzero__arm", nearzero_df, "nearzero.csv", "time", "status", "arm",
        times = c(0, 0.05, 0.1, 0.5))
km_case("kaplan_meier__neartie__days", neartie_df, "neartie.csv", "fudays", "status",
        times = c(0, 1315, 1333, 1350, 1461))

# ---- log-rank (G-rho) ---------------------------------------------------------------------------
lr_case("logrank__lung__sex", lung_df, "lung.csv", "time", "status", "sex")
lr_case("logrank__lung__sex_peto", lung_df, "lung.csv", "time", "status", "sex", rho = 1)
lr_case("logrank__lung__sex_strata_ecog", lung_df[!is.na(lung_df$ph.ecog), ], "lung.csv", "time",
        "status", "sex", strata = "ph.ecog")
lr_case("logrank__veteran__celltype", veteran_df, "veteran.csv", "time", "status", "celltype")
lr_case("logrank__veteran__celltype_rho05", veteran_df, "veteran.csv", "time", "status", "celltype", rho = 0.5)
lr_case("logrank__veteran__trt_strata_celltype", veteran_df, "veteran.csv", "time", "status", "trt",
        strata = "celltype")
lr_case("logrank__aml__x", aml_df, "aml.csv", "time", "status", "x")
lr_case("logrank__gehan__treat", gehan_df, "gehan.csv", "time", "cens", "treat")
lr_case("logrank__gehan__treat_strata_pair", gehan_df, "gehan.csv", "time", "cens", "treat", strata = "pair")
lr_case("logrank__bmt__os_group", bmt_df, "bmt.csv", "t1", "d1", "group")
lr_case("logrank__bmt__dfs_group", bmt_df, "bmt.csv", "t2", "d3", "group")
lr_case("logrank__bmt__dfs_group_strata_sex", bmt_df, "bmt.csv", "t2", "d3", "group", strata = "z3")
lr_case("logrank__bmt__dfs_group_peto", bmt_df, "bmt.csv", "t2", "d3", "group", rho = 1)
lr_case("logrank__neartie__arm_years", neartie_df, "neartie.csv", "fuyrs", "status", "arm")
lr_case("logrank__nearzero__arm", nearzero_df, "nearzero.csv", "time", "status", "arm")

# ---- landmark at day 100 (bmt): alive and in follow-up beyond day 100, clock restarted ----------
L <- 100
lm_df <- bmt_df[bmt_df$t1 > L, ]
lm_df$lm_time <- lm_df$t1 - L
lm_df$platelets_by_L <- as.integer(lm_df$dp == 1 & lm_df$tp <= L)
lm_df$agvhd_by_L <- as.integer(lm_df$da == 1 & lm_df$ta <= L)
for (cv in c("platelets_by_L", "agvhd_by_L")) {
  fit <- survfit(as.formula(sprintf("Surv(lm_time, d1) ~ %s", cv)), data = lm_df)
  sd <- survdiff(as.formula(sprintf("Surv(lm_time, d1) ~ %s", cv)), data = lm_df)
  vals <- c(list(landmark = L, covariate = cv, n_total = nrow(bmt_df), n_kept = nrow(lm_df),
                 n_excluded_event = sum(bmt_df$t1 <= L & bmt_df$d1 == 1),
                 n_excluded_censored = sum(bmt_df$t1 <= L & bmt_df$d1 == 0),
                 n_covariate = sum(lm_df[[cv]]),
                 logrank = list(statistic = sd$chisq, p_value = sd$pvalue,
                                observed = sd$obs, expected = sd$exp, variance = sd$var)),
            km_values(fit, times = c(0, 265, 630, 900), rmean = 900))
  call <- sprintf("survfit(Surv(t1 - %d, d1) ~ %s, data = subset(bmt, t1 > %d))", L, cv, L)
  write_fixture(sprintf("landmark__bmt__os_day100_%s", cv), SCRIPT, "bmt.csv", call, vals)
}

# ---- restricted mean: difference between two groups (normal CI on the difference) -------------
rmst_diff_case <- function(name, data, data_file, time, event, group, tau) {
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", time, event, group))
  st <- summary(survfit(f, data = data), rmean = tau)$table
  d <- st[2, "rmean"] - st[1, "rmean"]
  se <- sqrt(st[1, "se(rmean)"]^2 + st[2, "se(rmean)"]^2)
  z <- qnorm(0.975)
  vals <- list(time = time, event = event, group = group, tau = tau,
               groups = sub("^.*=", "", rownames(st)), rmean = st[, "rmean"],
               se_rmean = st[, "se(rmean)"], difference = d, se_difference = se,
               lower = d - z * se, upper = d + z * se, p_value = 2 * pnorm(-abs(d / se)))
  call <- sprintf("summary(survfit(%s, data = %s), rmean = %s)$table", deparse(f),
                  sub("\\.csv$", "", data_file), tau)
  write_fixture(name, SCRIPT, data_file, call, vals)
}
rmst_diff_case("rmst__lung__sex_730", lung_df, "lung.csv", "time", "status", "sex", 730)
rmst_diff_case("rmst__aml__x_100", aml_df, "aml.csv", "time", "status", "x", 100)
rmst_diff_case("rmst__gehan__treat_23", gehan_df, "gehan.csv", "time", "cens", "treat", 23)

# ---- median follow-up: reverse Kaplan-Meier (censoring is the event) ---------------------------
fu_case <- function(name, data, data_file, time, event) {
  f <- as.formula(sprintf("Surv(%s, 1 - %s) ~ 1", time, event))
  fit <- survfit(f, data = data)
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  vals <- list(time = time, event = event, probs = c(0.25, 0.5, 0.75), estimate = q$quantile,
               lower = q$lower, upper = q$upper, n = fit$n)
  call <- sprintf("quantile(survfit(%s, data = %s), c(0.25, 0.5, 0.75))", deparse(f),
                  sub("\\.csv$", "", data_file))
  write_fixture(name, SCRIPT, data_file, call, vals)
}
fu_case("median_follow_up__lung", lung_df, "lung.csv", "time", "status")
fu_case("median_follow_up__bmt_os", bmt_df, "bmt.csv", "t1", "d1")
fu_case("median_follow_up__aml", aml_df, "aml.csv", "time", "status")
