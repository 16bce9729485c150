# Regenerate every R reference fixture: `make fixtures` (Rscript tests/stats/r/make_fixtures.R).
# Runs every script in this folder except the helpers (names starting with "_") and itself, in
# alphabetical order, each in a fresh environment that shares the writer.
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
source(file.path(here, "_write_fixture.R"))
scripts <- setdiff(sort(list.files(here, pattern = "^[^_].*\\.R$")), "make_fixtures.R")
for (script in scripts) {
  message("running ", script)
  set.seed(20261123)
  sys.source(file.path(here, script), envir = new.env(parent = globalenv()))
}
# The demo's embedded dataset is the same bytes as the test copy.
invisible(file.copy(file.path(DATA_DIR, "bmt.csv"),
                    file.path(TEST_DIR, "..", "..", "src", "rrball", "data", "bmt.csv"),
                    overwrite = TRUE))
