# Export the Bioconductor ALL phenotype table (Chiaretti et al., Blood 2004;103:2771-8; package
# `ALL`, data(ALL), Biobase::pData) verbatim to src/rrball/data/all_pdata.csv: all 21 columns with
# their R names, character cells and dates exactly as in the source (M/D/YYYY and the few malformed
# ones), factors as their labels, logicals as TRUE/FALSE, NA as an empty cell. rrball imports it
# through src/rrball/cohort/mappings/all_bioc.yaml.
# Also writes tests/cohort/fixtures/all_bioc__cr_by_bcr_abl.json: CR counts by BCR/ABL among the
# B-lineage patients the mapping keeps, with fisher.test / chisq.test, for tests/cohort/test_all_public.py.
# Run by `make fixtures` (and so `make fixtures-check`); needs R with Bioconductor `ALL` and jsonlite.
suppressPackageStartupMessages({ library(ALL); library(Biobase); library(jsonlite) })
args <- commandArgs(trailingOnly = FALSE)
f <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(f)) dirname(normalizePath(f)) else getwd()
root <- normalizePath(file.path(here, "..", "..", ".."))
data(ALL, package = "ALL")
ph <- pData(ALL)
out <- ph
for (col in names(out)) if (is.factor(out[[col]])) out[[col]] <- as.character(out[[col]])
stopifnot(ncol(out) == 21, nrow(out) == 128)
csv <- file.path(root, "src", "rrball", "data", "all_pdata.csv")
write.csv(out, csv, row.names = FALSE, na = "", quote = TRUE, fileEncoding = "UTF-8")

# ---- cross-check: CR to induction by BCR/ABL, B-lineage, as the mapping reads it ---------------
d <- read.csv(csv, stringsAsFactors = FALSE, check.names = FALSE, na.strings = c("", "not known"))
# mapping exclusions (all_bioc.yaml `exclude`): induction outcome not recorded; CR without a date;
# age not recorded
keep <- !is.na(d$CR) & !(d$CR %in% c("CR", "DEATH IN CR") & is.na(d$date.cr)) & !is.na(d$age)
b <- d[keep & substr(d$BT, 1, 1) == "B", ]
# responder = CR documented with a date (CR or DEATH IN CR with date.cr); REF, DEATH IN INDUCTION = no
cr <- as.integer(b$CR %in% c("CR", "DEATH IN CR") & !is.na(b$date.cr))
bcr <- ifelse(b$mol.biol == "BCR/ABL" | (!is.na(b[["t(9;22)"]]) & b[["t(9;22)"]]), "positive", "negative")
tab <- table(bcr, cr)
ft <- fisher.test(tab)
ct <- suppressWarnings(chisq.test(tab, correct = FALSE))
num <- function(x) structure(sprintf("%.17g", x), class = "json")
fx <- list(
  case = "all_bioc__cr_by_bcr_abl",
  generated_by = "tests/cohort/r/export_all_pdata.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  packages = list(ALL = as.character(packageVersion("ALL")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  data = list(file = "src/rrball/data/all_pdata.csv"),
  call = "table(bcr, cr); fisher.test(tab); chisq.test(tab, correct = FALSE)",
  tolerance = list(rtol = num(1e-9), atol = num(0), reason = NA),
  values = list(n = nrow(b),
                groups = rownames(tab),
                n_group = as.integer(rowSums(tab)),
                n_cr = as.integer(tab[, "1"]),
                fisher_p = num(ft$p.value),
                fisher_or = num(unname(ft$estimate)),
                chisq_statistic = num(unname(ct$statistic)),
                chisq_p = num(ct$p.value)))
writeLines(toJSON(fx, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, na = "null"),
           file.path(root, "tests", "cohort", "fixtures", "all_bioc__cr_by_bcr_abl.json"))
