# Reference numbers for rrball.stats response statistics (issue 5): binomial CIs, chi-square,
# Fisher's exact test, logistic regression (ML, Wald and profile CIs), Firth (brglm2 AS_mean),
# univariable screening. Run through make_fixtures.R (`make fixtures`).
# glm is fitted with control = glm.control(epsilon = 1e-15, maxit = 100): R's default epsilon 1e-8
# stops early and reports SEs from the penultimate iterate, which would limit agreement to ~1e-8.
suppressPackageStartupMessages({ library(MASS); library(KMsurv); library(brglm2); library(ALL) })
SCRIPT <- "response.R"
CTRL <- glm.control(epsilon = 1e-15, maxit = 100)
PKGS <- c("stats", "MASS", "brglm2", "ALL", "KMsurv")

# ---- data ---------------------------------------------------------------------------------------
data(ALL, package = "ALL")
ph <- Biobase::pData(ALL)
all_df <- data.frame(
  cod = as.character(ph$cod),
  cr = ifelse(ph$remission == "CR", 1L, 0L),        # CR vs refractory (REF); NA when not assessed
  age = ph$age,
  sex = as.character(ph$sex),
  lineage = substr(as.character(ph$BT), 1, 1),       # B- vs T-lineage
  bcr_abl = as.integer(ph$mol.biol == "BCR/ABL"),
  all1_af4 = as.integer(ph$mol.biol == "ALL1/AF4"),  # all 10 carriers respond: separation
  mol_biol = as.character(ph$mol.biol),
  stringsAsFactors = FALSE
)
all_df$age_group <- ifelse(all_df$age < 20, "a_lt20", ifelse(all_df$age < 40, "b_20to39", "c_40plus"))
all_df$mol_group <- ifelse(all_df$mol_biol %in% c("BCR/ABL", "NEG"), all_df$mol_biol, "other")
# complete cases of every modelled variable, so univariable and multivariable fits share one sample
all_df <- all_df[complete.cases(all_df[, c("cr", "age", "sex", "lineage", "bcr_abl", "all1_af4")]), ]
rownames(all_df) <- NULL
write_data(all_df, "all_pheno.csv")
d <- read.csv(file.path(DATA_DIR, "all_pheno.csv"), stringsAsFactors = TRUE)
data(bmt, package = "KMsurv")   # bmt.csv is exported by survival.R; the same bytes are read here
b <- read.csv(file.path(DATA_DIR, "bmt.csv"))
props <- data.frame(x = c(22L, 21L, 19L, 0L, 10L, 85L, 5L, 1L, 96L),
                    n = c(53L, 22L, 22L, 10L, 10L, 182L, 10L, 40L, 182L))
write_data(props, "proportion_cases.csv")

# ---- proportions --------------------------------------------------------------------------------
for (i in seq_len(nrow(props))) {
  x <- props$x[i]; n <- props$n[i]
  for (lev in c(0.95, 0.9)) {
    bt <- binom.test(x, n, conf.level = lev)
    p0 <- suppressWarnings(prop.test(x, n, correct = FALSE, conf.level = lev))
    p1 <- suppressWarnings(prop.test(x, n, correct = TRUE, conf.level = lev))
    write_fixture(
      sprintf("proportion__cases__%d_of_%d_%g", x, n, 100 * lev), SCRIPT, "proportion_cases.csv",
      sprintf("binom.test(%d, %d); prop.test(%d, %d, correct = FALSE/TRUE); conf.level = %g",
              x, n, x, n, lev),
      list(x = x, n = n, conf_level = lev,
           exact = list(estimate = unname(bt$estimate), lower = bt$conf.int[1],
                        upper = bt$conf.int[2], p_value = bt$p.value),
           wilson = list(lower = p0$conf.int[1], upper = p0$conf.int[2],
                         statistic = unname(p0$statistic), p_value = p0$p.value),
           wilson_cc = list(lower = p1$conf.int[1], upper = p1$conf.int[2],
                            statistic = unname(p1$statistic), p_value = p1$p.value)),
      packages = "stats")
  }
}

# ---- contingency tables -------------------------------------------------------------------------
small_warning <- function(expr) {
  warned <- FALSE
  val <- withCallingHandlers(expr, warning = function(w) {
    if (grepl("approximation may be incorrect", conditionMessage(w))) warned <<- TRUE
    invokeRestart("muffleWarning")
  })
  list(value = val, warned = warned)
}
tables <- list(
  list(name = "all__lineage_cr_2x2", file = "all_pheno.csv",
       call = "table(lineage, cr) from all_pheno.csv", tab = table(d$lineage, d$cr)),
  list(name = "all__af4_cr_2x2_zero", file = "all_pheno.csv",
       call = "table(all1_af4, cr) from all_pheno.csv", tab = table(d$all1_af4, d$cr)),
  list(name = "bmt__group_d3_3x2", file = "bmt.csv",
       call = "table(group, d3) from bmt.csv", tab = table(b$group, b$d3)),
  list(name = "all__mol4_cr_4x2_sparse", file = "all_pheno.csv",
       call = "table(mol_biol, cr) for ALL1/AF4, BCR/ABL, E2A/PBX1, NEG",
       tab = table(factor(d$mol_biol[d$mol_biol %in% c("ALL1/AF4", "BCR/ABL", "E2A/PBX1", "NEG")]),
                   d$cr[d$mol_biol %in% c("ALL1/AF4", "BCR/ABL", "E2A/PBX1", "NEG")])),
  list(name = "bmt__group_hospital_3x4_zero", file = "bmt.csv",
       call = "table(group, z9) from bmt.csv", tab = table(b$group, b$z9)),
  list(name = "bmt__group_fab_3x2_zero", file = "bmt.csv",
       call = "table(group, z8) from bmt.csv", tab = table(b$group, b$z8))
)
for (tb in tables) {
  m <- unclass(tb$tab); m <- matrix(as.numeric(m), nrow = nrow(m))
  cs <- small_warning(chisq.test(m, correct = FALSE))
  cs1 <- small_warning(chisq.test(m, correct = TRUE))
  ft <- fisher.test(m)
  vals <- list(table = m, row_labels = rownames(tb$tab), column_labels = colnames(tb$tab),
               chisq = list(statistic = unname(cs$value$statistic), df = unname(cs$value$parameter),
                            p_value = cs$value$p.value, expected = cs$value$expected,
                            residuals = cs$value$residuals, stdres = cs$value$stdres,
                            small_expected_warning = cs$warned),
               chisq_corrected = list(statistic = unname(cs1$value$statistic),
                                      p_value = cs1$value$p.value),
               fisher = list(p_value = ft$p.value))
  write_fixture(paste0("contingency__", tb$name), SCRIPT, tb$file,
                paste0(tb$call, "; chisq.test(m, correct = FALSE/TRUE); fisher.test(m)"), vals,
                packages = "stats")
  if (all(dim(m) == 2)) {
    # fisher.test's odds ratio and limits come from uniroot() at its default tolerance
    # (.Machine$double.eps^0.25); the "refined" values solve the same equations (conditional
    # MLE: E[X] = x; limits: P(X >= x) = alpha/2, P(X <= x) = alpha/2 under the noncentral
    # hypergeometric law of the [1, 1] cell) with uniroot(tol = 1e-14) on the log odds ratio.
    mm <- sum(m[, 1]); nn <- sum(m[, 2]); k <- sum(m[1, ]); x <- m[1, 1]
    lo <- max(0, k - nn); hi <- min(k, mm); s <- lo:hi
    logdc <- dhyper(s, mm, nn, k, log = TRUE)
    dn <- function(lp) { w <- logdc + s * lp; w <- exp(w - max(w)); w / sum(w) }
    mean_fun <- function(lp) sum(s * dn(lp)) - x
    up_tail <- function(lp) sum(dn(lp)[s >= x])
    low_tail <- function(lp) sum(dn(lp)[s <= x])
    root_lp <- function(f) uniroot(f, c(-30, 30), tol = 1e-14, maxiter = 1000)$root
    est <- if (x == lo) 0 else if (x == hi) Inf else exp(root_lp(mean_fun))
    low <- if (x == lo) 0 else exp(root_lp(function(lp) up_tail(lp) - 0.025))
    upp <- if (x == hi) Inf else exp(root_lp(function(lp) low_tail(lp) - 0.025))
    ft_less <- fisher.test(m, alternative = "less"); ft_gr <- fisher.test(m, alternative = "greater")
    write_fixture(paste0("fisher_or__", tb$name), SCRIPT, tb$file,
                  paste0(tb$call, "; fisher.test(m) estimate and conf.int"),
                  list(table = m, estimate = unname(ft$estimate), lower = ft$conf.int[1],
                       upper = ft$conf.int[2], refined_estimate = est, refined_lower = low,
                       refined_upper = upp, p_less = ft_less$p.value, p_greater = ft_gr$p.value),
                  rtol = 1e-4,
                  reason = paste("fisher.test solves for the odds ratio and its limits with",
                                 "uniroot's default tol (~1.2e-4); the refined_* values",
                                 "(uniroot tol = 1e-14) are compared at 1e-9 in the test"),
                  packages = "stats")
  }
}

# ---- logistic regression (ML) -------------------------------------------------------------------
profile_exact <- function(fit, data) {
  # Exact profile-likelihood limits: roots of the signed-root deviance z(b) = +-qnorm(0.975),
  # each point a glm with the term's column fixed through an offset (same model matrix).
  X <- model.matrix(fit); y <- fit$y; dev0 <- deviance(fit); q <- qchisq(0.95, 1)
  out <- matrix(NA_real_, ncol(X), 2)
  for (j in seq_len(ncol(X))) {
    prof_dev <- function(bj) {
      f <- glm.fit(X[, -j, drop = FALSE], y, family = binomial(), offset = X[, j] * bj,
                   control = CTRL)
      f$deviance - dev0 - q
    }
    bhat <- coef(fit)[j]; se <- sqrt(diag(vcov(fit)))[j]
    out[j, 1] <- uniroot(prof_dev, c(bhat - 10 * se, bhat), tol = 1e-12, maxiter = 1000)$root
    out[j, 2] <- uniroot(prof_dev, c(bhat, bhat + 10 * se), tol = 1e-12, maxiter = 1000)$root
  }
  out
}
ml_values <- function(fit) {
  s <- summary(fit)$coefficients
  list(terms = rownames(s), coef = unname(s[, 1]), se = unname(s[, 2]), z = unname(s[, 3]),
       p_value = unname(s[, 4]), wald = unname(confint.default(fit)),
       deviance = deviance(fit), null_deviance = fit$null.deviance, aic = AIC(fit),
       loglik = as.numeric(logLik(fit)), n = nobs(fit), n_events = sum(fit$y),
       df_residual = fit$df.residual, converged = fit$converged)
}
models <- list(
  multi = cr ~ age + sex + bcr_abl + lineage,
  uni_age = cr ~ age, uni_sex = cr ~ sex, uni_bcr_abl = cr ~ bcr_abl,
  uni_lineage = cr ~ lineage, uni_age_group = cr ~ age_group,
  multi_age_group = cr ~ age_group + sex + bcr_abl + lineage
)
# R's summary() takes SEs from the weights of the penultimate IRLS iterate; even at epsilon 1e-15
# that iterate is only ~1e-8 from the optimum (the deviance is quadratic there). Each fit is
# therefore refitted once from its own estimate (start = coef(fit)), so the reported SEs are
# evaluated at the converged estimate.
fit_glm <- function(formula) {
  f0 <- glm(formula, family = binomial, data = d, control = CTRL)
  glm(formula, family = binomial, data = d, control = CTRL, start = coef(f0))
}
for (nm in names(models)) {
  fit <- fit_glm(models[[nm]])
  call <- paste0("glm(", deparse(models[[nm]]), ", family = binomial, data = all_pheno.csv, ",
                 "control = glm.control(epsilon = 1e-15, maxit = 100)), refitted from its estimate")
  write_fixture(paste0("logistic__all__", nm), SCRIPT, "all_pheno.csv", call, ml_values(fit),
                packages = PKGS)
  write_fixture(paste0("logistic_profile__all__", nm), SCRIPT, "all_pheno.csv",
                paste(call, "; exact profile-likelihood roots (glm.fit with offset + uniroot)"),
                list(terms = names(coef(fit)), profile = profile_exact(fit, d)),
                rtol = 1e-8,
                reason = "roots found by uniroot(tol = 1e-12) on a deviance from iterative fits",
                packages = PKGS)
  write_fixture(paste0("logistic_profile_mass__all__", nm), SCRIPT, "all_pheno.csv",
                paste(call, "; MASS::confint.glm(fit)"),
                list(terms = names(coef(fit)), profile = unname(suppressMessages(confint(fit)))),
                rtol = 2e-3,
                reason = paste("MASS::confint.glm interpolates a spline through a grid of",
                               "profile points (profile.glm del = zmax/5); rrball solves for the",
                               "exact roots (compared at 1e-8 in logistic_profile__*)"),
                packages = PKGS)
}

# ---- separation: ML flags, Firth (brglm2 AS_mean) -----------------------------------------------
sep_models <- list(uni_af4 = cr ~ all1_af4, multi_af4 = cr ~ age + sex + bcr_abl + all1_af4 + lineage,
                   uni_mol_group = cr ~ mol_group)
firth_models <- c(sep_models, list(multi = cr ~ age + sex + bcr_abl + lineage))
BRCTRL <- brglmControl(epsilon = 1e-14, maxit = 1000)
pen_loglik <- function(beta, X, y) {
  eta <- drop(X %*% beta); p <- plogis(eta)
  ll <- sum(y * eta - ifelse(eta > 0, eta + log1p(exp(-eta)), log1p(exp(eta))))
  ll + 0.5 * as.numeric(determinant(crossprod(X * sqrt(p * (1 - p))), logarithm = TRUE)$modulus)
}
pen_grad <- function(beta, X, y) {
  eta <- drop(X %*% beta); p <- plogis(eta); w <- p * (1 - p)
  XW <- X * sqrt(w); h <- rowSums(qr.Q(qr(XW))^2)   # hat values without an explicit inverse
  drop(crossprod(X, y - p + h * (0.5 - p)))
}
firth_profile <- function(fit) {
  # Profile penalised likelihood (Heinze & Schemper 2002): for each term, maximise the Firth
  # penalised log-likelihood with that coefficient fixed (optim BFGS, analytic gradient), then
  # find where 2 * (l*(beta_hat) - l*_profile) = qchisq(0.95, 1) with uniroot.
  X <- model.matrix(fit); y <- fit$y; bhat <- coef(fit); lmax <- pen_loglik(bhat, X, y)
  q <- qchisq(0.95, 1); out <- matrix(NA_real_, ncol(X), 2)
  for (j in seq_len(ncol(X))) {
    start <- bhat[-j]
    prof <- function(bj) {
      f <- function(b) { beta <- bhat; beta[j] <- bj; beta[-j] <- b; -pen_loglik(beta, X, y) }
      g <- function(b) { beta <- bhat; beta[j] <- bj; beta[-j] <- b; -pen_grad(beta, X, y)[-j] }
      o <- optim(start, f, g, method = "BFGS", control = list(reltol = 1e-15, maxit = 5000))
      o <- optim(o$par, f, g, method = "BFGS", control = list(reltol = 1e-15, maxit = 5000))
      2 * (lmax + o$value) - q
    }
    se <- sqrt(diag(vcov(fit)))[j]
    out[j, 1] <- uniroot(prof, c(bhat[j] - 6 * se, bhat[j]), tol = 1e-10)$root
    out[j, 2] <- uniroot(prof, c(bhat[j], bhat[j] + 6 * se), tol = 1e-10)$root
  }
  out
}
for (nm in names(sep_models)) {
  msgs <- character()
  fit <- withCallingHandlers(glm(sep_models[[nm]], family = binomial, data = d, control = CTRL),
                             warning = function(w) { msgs <<- c(msgs, conditionMessage(w))
                                                      invokeRestart("muffleWarning") })
  s <- summary(fit)$coefficients
  write_fixture(paste0("separation__all__", nm), SCRIPT, "all_pheno.csv",
                paste0("glm(", deparse(sep_models[[nm]]), ", family = binomial, control = CTRL)"),
                list(terms = rownames(s), coef = unname(s[, 1]), se = unname(s[, 2]),
                     deviance = deviance(fit), null_deviance = fit$null.deviance,
                     r_warnings = msgs),
                rtol = 1e-6,
                reason = paste("ML estimates do not exist under separation; only the limiting",
                               "deviance is compared (it converges as the coefficients diverge)"),
                packages = PKGS)
}
for (nm in names(firth_models)) {
  ff <- glm(firth_models[[nm]], family = binomial, data = d, method = "brglmFit",
            type = "AS_mean", control = BRCTRL)
  s <- summary(ff)$coefficients
  call <- paste0("glm(", deparse(firth_models[[nm]]), ", family = binomial, method = ",
                 "\"brglmFit\", type = \"AS_mean\", control = brglmControl(epsilon = 1e-14, ",
                 "maxit = 1000))")
  write_fixture(paste0("firth__all__", nm), SCRIPT, "all_pheno.csv", call,
                list(terms = rownames(s), coef = unname(s[, 1]), se = unname(s[, 2]),
                     z = unname(s[, 3]), p_value = unname(s[, 4]), wald = unname(confint.default(ff)),
                     deviance = deviance(ff), converged = ff$converged, n = nobs(ff)),
                rtol = 1e-9, packages = PKGS)
  write_fixture(paste0("firth_profile__all__", nm), SCRIPT, "all_pheno.csv",
                paste(call, "; profile penalised likelihood by optim(BFGS) + uniroot(tol = 1e-10)"),
                list(terms = rownames(s), profile = firth_profile(ff)),
                rtol = 1e-6,
                reason = paste("each profile point is an optim(BFGS, reltol = 1e-15) maximum",
                               "and the limits are uniroot(tol = 1e-10) roots"),
                packages = PKGS)
}

# ---- univariable screen (seed 000: keep p <= 0.10, then one multivariable model) ---------------
cands <- c("age", "sex", "bcr_abl", "lineage", "age_group")
lr_p <- wald_p <- numeric(length(cands))
for (i in seq_along(cands)) {
  f <- fit_glm(reformulate(cands[i], "cr"))
  lr_p[i] <- anova(f, test = "LRT")[2, "Pr(>Chi)"]
  # Wald p of the term: z-test for one coefficient, Wald chi-square for a multi-level factor
  b <- coef(f)[-1]; V <- vcov(f)[-1, -1, drop = FALSE]
  wald_p[i] <- pchisq(drop(t(b) %*% solve(V) %*% b), length(b), lower.tail = FALSE)
}
sel <- cands[lr_p <= 0.10]
mv <- fit_glm(reformulate(sel, "cr"))
write_fixture("screen__all__lr", SCRIPT, "all_pheno.csv",
              "per candidate glm(cr ~ x); anova(fit, test = 'LRT'); Wald chi-square of the term",
              list(candidates = cands, lr_p = lr_p, wald_p = wald_p, selected = sel,
                   multi_terms = names(coef(mv)), multi_coef = unname(coef(mv)),
                   multi_se = unname(sqrt(diag(vcov(mv))))),
              packages = PKGS)

# ---- Table 1 tests (gtsummary's defaults, computed with the base functions gtsummary calls) ------
t1 <- function(by) {
  g <- d[[by]]
  cat_p <- function(v) {
    tab <- table(d[[v]], g)
    e <- suppressWarnings(chisq.test(tab, correct = FALSE))
    if (any(e$expected < 5)) c(test = "fisher", p = fisher.test(tab)$p.value)
    else c(test = "chisq", p = e$p.value)
  }
  cats <- c("sex", "bcr_abl", "age_group")
  cp <- lapply(cats, cat_p)
  age_p <- if (length(unique(g)) == 2) suppressWarnings(wilcox.test(age ~ g, data = d))$p.value
           else kruskal.test(age ~ factor(g), data = d)$p.value
  q <- t(sapply(split(d$age, g), quantile, probs = c(0.25, 0.5, 0.75), type = 7))
  list(cat_vars = cats, cat_tests = sapply(cp, `[`, "test"),
       cat_p = as.numeric(sapply(cp, `[`, "p")), age_p = age_p, groups = rownames(q),
       age_quantiles = unname(q))
}
for (by in c("lineage", "mol_group")) {
  write_fixture(paste0("table_one__all__", by), SCRIPT, "all_pheno.csv",
                paste0("chisq.test(correct = FALSE) / fisher.test (expected < 5), ",
                       "wilcox.test or kruskal.test of age, quantile(type = 7) by ", by),
                t1(by), packages = PKGS)
}
