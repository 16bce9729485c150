# Common fixture writer for rrball's R reference numbers.
# Doubles are written with sprintf("%.17g") so they round-trip exactly (jsonlite 1.8.4 caps at 15
# significant digits even with digits = NA); NA and NaN become null; +-Inf the strings "Inf"/"-Inf".
suppressPackageStartupMessages(library(jsonlite))

.here <- function() {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f)) dirname(normalizePath(f)) else getwd()
}
R_DIR <- .here()
TEST_DIR <- normalizePath(file.path(R_DIR, ".."))
DATA_DIR <- file.path(TEST_DIR, "data")
FIXTURE_DIR <- file.path(TEST_DIR, "fixtures")
dir.create(DATA_DIR, showWarnings = FALSE)
dir.create(FIXTURE_DIR, showWarnings = FALSE)

sha256_file <- function(path) strsplit(system2("sha256sum", shQuote(path), stdout = TRUE), " ")[[1]][1]

num_json <- function(x) {
  x <- as.numeric(x)
  s <- ifelse(is.na(x), "null",
       ifelse(is.infinite(x), ifelse(x > 0, '"Inf"', '"-Inf"'), sprintf("%.17g", x)))
  if (length(x) == 1 && is.null(dim(x))) return(structure(s, class = "json"))
  structure(paste0("[", paste(s, collapse = ","), "]"), class = "json")
}

# Recursively turn numeric vectors into verbatim JSON (full precision); keep strings/logicals.
encode <- function(v) {
  if (is.list(v)) return(lapply(v, encode))
  if (is.matrix(v) && is.numeric(v))
    return(list(dim = dim(v), values = num_json(as.vector(v))))   # column-major, as R stores it
  if (is.numeric(v)) return(num_json(v))
  if (is.factor(v)) return(as.character(v))
  v
}

# Write one data frame as CSV; doubles at full precision so R and Python read the same numbers.
write_data <- function(df, name) {
  out <- df
  for (col in names(out)) {
    x <- out[[col]]
    if (is.factor(x)) out[[col]] <- as.character(x)
    else if (is.double(x)) out[[col]] <- ifelse(is.na(x), NA, sprintf("%.17g", x))
  }
  path <- file.path(DATA_DIR, name)
  write.csv(out, path, row.names = FALSE, na = "", quote = TRUE)
  invisible(path)
}

SCRIPT_SHA <- function(script) sha256_file(file.path(R_DIR, script))

# `packages`: optional extra package names whose versions are recorded (e.g. c("MASS", "brglm2")).
write_fixture <- function(name, script, data_file, call, values,
                          rtol = 1e-9, atol = 0, reason = NULL, packages = NULL) {
  versions <- list(survival = as.character(packageVersion("survival")),
                   jsonlite = as.character(packageVersion("jsonlite")))
  for (p in packages) versions[[p]] <- as.character(packageVersion(p))
  fx <- list(
    case = name,
    generated_by = file.path("tests/stats/r", script),
    script_sha256 = SCRIPT_SHA(script),
    writer_sha256 = SCRIPT_SHA("_write_fixture.R"),
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    packages = versions,
    data = list(file = data_file, sha256 = sha256_file(file.path(DATA_DIR, data_file))),
    call = call,
    tolerance = list(rtol = num_json(rtol), atol = num_json(atol),
                     reason = if (is.null(reason)) NA else reason),
    values = encode(values)
  )
  txt <- toJSON(fx, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, na = "null",
                null = "null")
  writeLines(txt, file.path(FIXTURE_DIR, paste0(name, ".json")))
}
