# Reference numbers for rrball.stats.cox_ph (issue 4): coefficients, variance, log-likelihoods,
# likelihood-ratio / Wald / score tests, concordance, robust (cluster) variance, cox.zph, and the
# counting-process data tmerge builds for time-dependent covariates.
# R's Newton-Raphson stops at a relative log-likelihood change of 1e-9 by default; to compare the
# maximum itself at 1e-9 relative, fits here use eps = 1e-13 (and toler.chol below it).
suppressPackageStartupMessages({ library(survival); library(MASS); library(KMsurv) })
SCRIPT <- "cox.R"
CTL <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)

lung_df <- survival::lung
lung_df$status <- lung_df$status - 1L
veteran_df <- survival::veteran
gehan_df <- MASS::gehan
data(bmt, package = "KMsurv"); bmt_df <- bmt
bmt_df$id <- seq_len(nrow(bmt_df))

cox_values <- function(fit, zph = character()) {
  s <- summary(fit)
  v <- list(terms = names(coef(fit)), coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
            var = unname(fit$var), loglik = fit$loglik, score = unname(fit$score),
            wald = unname(fit$wald.test), lrt = 2 * diff(fit$loglik),
            df = sum(!is.na(coef(fit))), iter = fit$iter, n = fit$n, nevent = fit$nevent,
            method = fit$method,
            concordance = unname(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y",
                                                   "tied.xy", "concordance", "std")]),
            conf_lower = unname(s$conf.int[, "lower .95"]), conf_upper = unname(s$conf.int[, "upper .95"]),
            p_value = unname(s$coefficients[, "Pr(>|z|)"]),
            logtest_p = unname(s$logtest["pvalue"]), waldtest_p = unname(s$waldtest["pvalue"]),
            sctest_p = unname(s$sctest["pvalue"]))
  if (!is.null(fit$naive.var)) {
    v$robust_se <- unname(sqrt(diag(fit$var)))
    v$se <- unname(sqrt(diag(fit$naive.var)))
    v$naive_var <- unname(fit$naive.var)
    v$robust_score <- unname(fit$rscore)
  }
  for (tr in zph) {
    z <- cox.zph(fit, transform = tr)
    v[[paste0("zph_", tr)]] <- list(rows = rownames(z$table), chisq = unname(z$table[, "chisq"]),
                                    df = unname(z$table[, "df"]), p = unname(z$table[, "p"]))
  }
  v
}

cox_case <- function(name, formula, df, data_file, spec, zph = character(), ...) {
  fit <- do.call(coxph, c(list(formula = formula, data = df, control = CTL), list(...)))
  call <- paste0("coxph(", deparse1(formula), ", data = ", sub("\\.csv$", "", data_file),
                 ", control = coxph.control(eps = 1e-13, toler.chol = 1e-15))")
  write_fixture(name, SCRIPT, data_file, call, c(spec, cox_values(fit, zph)))
}

cox_case("cox__lung__age_sex_ecog", Surv(time, status) ~ age + sex + ph.ecog, lung_df, "lung.csv",
         list(time = "time", event = "status", covariates = c("age", "sex", "ph.ecog")),
         zph = c("km", "rank", "identity"))
cox_case("cox__lung__age_sex_ecog_breslow", Surv(time, status) ~ age + sex + ph.ecog, lung_df,
         "lung.csv", list(time = "time", event = "status", covariates = c("age", "sex", "ph.ecog")),
         ties = "breslow", zph = "km")
vet_cov <- c("trt", "celltype", "karno", "diagtime", "age", "prior")
cox_case("cox__veteran__all_efron", Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior,
         veteran_df, "veteran.csv",
         list(time = "time", event = "status", covariates = vet_cov,
              levels = list(celltype = levels(veteran_df$celltype))), zph = "km")
cox_case("cox__veteran__all_breslow", Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior,
         veteran_df, "veteran.csv",
         list(time = "time", event = "status", covariates = vet_cov,
              levels = list(celltype = levels(veteran_df$celltype))), ties = "breslow")
cox_case("cox__veteran__strata_celltype", Surv(time, status) ~ trt + karno + strata(celltype),
         veteran_df, "veteran.csv",
         list(time = "time", event = "status", covariates = c("trt", "karno"), strata = "celltype"),
         zph = "km")
cox_case("cox__gehan__treat", Surv(time, cens) ~ treat, gehan_df, "gehan.csv",
         list(time = "time", event = "cens", covariates = "treat"))
cox_case("cox__gehan__treat_cluster_pair", Surv(time, cens) ~ treat, gehan_df, "gehan.csv",
         list(time = "time", event = "cens", covariates = "treat", cluster = "pair"),
         cluster = as.name("pair"))
cox_case("cox__lung__robust", Surv(time, status) ~ age + sex, lung_df, "lung.csv",
         list(time = "time", event = "status", covariates = c("age", "sex"), robust = TRUE),
         robust = TRUE)
bmt_df$group_f <- factor(bmt_df$group)
cox_case("cox__bmt__dfs_group_fab_mtx_age", Surv(t2, d3) ~ group_f + z8 + z10 + z1, bmt_df, "bmt.csv",
         list(time = "t2", event = "d3", covariates = c("group", "z8", "z10", "z1"),
              categorical = "group"), zph = "km")

# Time-dependent covariates: platelet recovery and acute GVHD switch on at their dates (tmerge).
td <- tmerge(bmt_df[, c("id", "group", "z1", "z8", "z10")], bmt_df, id = id, dfs = event(t2, d3))
td <- tmerge(td, bmt_df, id = id, platelets = tdc(ifelse(dp == 1, tp, NA)),
             agvhd = tdc(ifelse(da == 1, ta, NA)))
td_out <- td[, c("id", "tstart", "tstop", "dfs", "platelets", "agvhd", "group", "z1", "z8", "z10")]
write_data(as.data.frame(td_out), "bmt_td.csv")
td_out$group_f <- factor(td_out$group)
cox_case("cox__bmt_td__platelets_agvhd", Surv(tstart, tstop, dfs) ~ platelets + agvhd + group_f,
         td_out, "bmt_td.csv",
         list(start = "tstart", time = "tstop", event = "dfs",
              covariates = c("platelets", "agvhd", "group"), categorical = "group"), zph = "km")
