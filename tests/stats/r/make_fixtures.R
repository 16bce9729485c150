# Regenerate every R reference fixture: `make fixtures` (Rscript tests/stats/r/make_fixtures.R).
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
source(file.path(here, "_write_fixture.R"))
for (script in c("survival.R")) {
  message("running ", script)
  source(file.path(here, script))
}
# The demo's embedded dataset is the same bytes as the test copy.
invisible(file.copy(file.path(DATA_DIR, "bmt.csv"), file.path(TEST_DIR, "..", "..", "src", "rrball", "data", "bmt.csv"),
          overwrite = TRUE))
