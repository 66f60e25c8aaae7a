#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the translations against the current sources:
#  1. every C file under libvirt-plugin/ with translatable messages is listed
#     in po/POTFILES, and every listed file exists;
#  2. every language of po/LINGUAS translates every message (nothing
#     untranslated or fuzzy after merging a freshly extracted template) and
#     passes msgfmt --check (placeholders match).
# Usage: check-po.sh SOURCE-ROOT
set -eu
src=$1
cd "$src"
status=0

for f in $(grep -rlE '(^|[^[:alnum:]_])(N?_|g_dngettext) ?\(' --include='*.c' libvirt-plugin | sort); do
    if ! grep -qxF "$f" po/POTFILES; then
        echo "$f has translatable messages but is not listed in po/POTFILES"
        status=1
    fi
done
while read -r f; do
    case $f in ''|'#'*) continue ;; esac
    [ -f "$f" ] || { echo "po/POTFILES lists $f, which does not exist"; status=1; }
done < po/POTFILES

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=g_dngettext:2,3 \
    --flag=N_:1:pass-c-format -f po/POTFILES -o "$tmp/vgpu.pot" 2>/dev/null
for lang in $(grep -v '^#' po/LINGUAS); do
    msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/vgpu.pot" -o "$tmp/$lang.po"
    if ! stats=$(msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>&1); then
        echo "po/$lang.po: msgfmt --check failed: $stats"
        status=1
        continue
    fi
    case $stats in
    *untranslated*|*fuzzy*)
        echo "po/$lang.po is incomplete for the current sources ($stats); run 'meson compile -C BUILD vgpu-update-po' and translate"
        status=1
        ;;
    *)
        echo "po/$lang.po: $stats"
        ;;
    esac
done
exit $status
