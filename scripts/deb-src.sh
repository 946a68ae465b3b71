#!/usr/bin/env bash
# Makes `apt-get source PACKAGE...` work: when it finds no sources, writes deb-src twins of
# the enabled Debian "deb" entries (deb822 .sources and one-line .list files alike) to
# /etc/apt/sources.list.d/portwarden-deb-src.{sources,list}, so the sources come from the
# very archive and suites the binaries come from, and runs apt-get update. Third-party
# repositories are left out: most publish no sources. Needs root (or sudo) only to write.
#
#   scripts/deb-src.sh civetweb prometheus-cpp
set -euo pipefail

readonly deb_src_file=/etc/apt/sources.list.d/portwarden-deb-src
log() { printf '[deb-src] %s\n' "$*" >&2; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

write_deb_src_entries() {
  local debian_uri='^[a-z+]+://[^ ]*/debian(-security|-ports)?/?$'
  local f
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  : >"$tmp/sources"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f && $f != "$deb_src_file.sources" ]] || continue
    awk -v uri_re="$debian_uri" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris ~ uri_re) {
          print "Types: deb-src"
          print "URIs: " uris
          print "Suites: " suites
          print "Components: " comps
          if (signed != "") print "Signed-By: " signed
          print ""
        }
        types = uris = suites = comps = signed = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        key = tolower($1); sub(/:$/, "", key)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { flush() }' "$f" >>"$tmp/sources"
  done
  : >"$tmp/list"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f && $f != "$deb_src_file.list" ]] || continue
    # "deb [options] uri suite components..." -> the same line as deb-src.
    awk -v uri_re="$debian_uri" '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($i ~ uri_re) { sub(/^deb/, "deb-src"); print }
      }' "$f" >>"$tmp/list"
  done
  local kind
  for kind in sources list; do
    if [[ -s $tmp/$kind ]]; then
      $sudo cp "$tmp/$kind" "$deb_src_file.$kind"
      log "wrote $deb_src_file.$kind"
    fi
  done
}

# What `apt-get source` would download; it fails when no deb-src entry is configured.
if apt-get source --print-uris -qq "$@" >/dev/null 2>&1; then
  exit 0
fi
write_deb_src_entries
[[ -f $deb_src_file.sources || -f $deb_src_file.list ]] ||
  { log "error: no enabled Debian 'deb' entry found in /etc/apt to derive a deb-src entry from"; exit 1; }
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get source --print-uris -qq "$@" >/dev/null ||
  { log "error: apt-get source still finds no sources after adding a deb-src entry"; exit 1; }
