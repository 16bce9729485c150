#!/usr/bin/env bash
# Install the Debian packages rrball needs, only when they are missing.
#   bootstrap.sh python  -> python3 with venv (to build .venv from the lock file), and the system
#                           libraries the reports need (Pango for WeasyPrint PDF, fonts, pdftoppm)
#   bootstrap.sh r       -> R and the r-cran-* packages that make the reference fixtures
set -euo pipefail

need_apt=()
case "${1:-}" in
  python)
    command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
    if command -v dpkg >/dev/null 2>&1; then
      for deb in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils; do
        dpkg -s "$deb" >/dev/null 2>&1 || need_apt+=("$deb")
      done
    fi
    ;;
  r)
    command -v Rscript >/dev/null 2>&1 || need_apt+=(r-base-core)
    for pkg in survival:r-cran-survival KMsurv:r-cran-kmsurv MASS:r-cran-mass jsonlite:r-cran-jsonlite \
               cmprsk:r-cran-cmprsk brglm2:r-cran-brglm2 ALL:r-bioc-all; do
      name=${pkg%%:*}; deb=${pkg##*:}
      if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e "quit(status = !requireNamespace('$name', quietly = TRUE))" >/dev/null 2>&1; then
        need_apt+=("$deb")
      fi
    done
    ;;
  *) echo "usage: bootstrap.sh python|r" >&2; exit 2 ;;
esac

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
