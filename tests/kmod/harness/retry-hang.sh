#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# retry-hang.sh LAB-COMMAND...: run an in-lab test whose guest runs an inner KVM guest (nested
# virtualisation under TCG), once more if the whole lab hung (tools/lab's status 124). Such a
# hang was seen once in about ten runs of sim-guest, with nothing on the console; its cause is
# not known. The first attempt's output is kept as TAP comments, so the retry is visible.
# Any other failure, and a second hang, fail as they are.
first=$(mktemp)
trap 'rm -f "$first"' EXIT
"$@" >"$first"
rc=$?
if [ "$rc" != 124 ]; then
	cat "$first"
	exit "$rc"
fi
echo "# the lab hung (status 124); its output, then a second attempt:"
sed 's/^/#   /' "$first"
exec "$@"
