#!/bin/sh

test_description='cairn status: clean, changed, missing, --json, subdirectories, paths'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

# status_summary <json: one line per tracked path, one per change; fails
# if stdin is not JSON.
status_summary () {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in d["paths"]:
    print(p["path"], p["pointer"], p["type"], p["state"])
    for c in p["changes"]:
        print("   ", c["change"], c["path"])
'
}

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		cairn init >/dev/null &&
		mkdir -p data/train/sub models &&
		echo alpha >data/train/a &&
		echo beta >data/train/b &&
		echo gamma >data/train/sub/c &&
		echo weights >models/w.bin &&
		cairn add -q data/train models/w.bin &&
		git add -A &&
		git commit -q -m v1
	) &&
	cp -R repo/data/train train.orig
'

test_expect_success 'nothing tracked yet: status says so' '
	git init -q empty &&
	(
		cd empty &&
		cairn init >/dev/null &&
		cairn status >../out
	) &&
	test_grep "^no tracked paths" out
'

test_expect_success 'a clean tree: every path matches' '
	(
		cd repo &&
		cairn status >../out 2>../err
	) &&
	echo "all 2 tracked paths match their pointers" >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'clean --json' '
	(
		cd repo &&
		cairn status --json >../out
	) &&
	status_summary <out >actual &&
	cat >expect <<-\EOF &&
	data/train data/train.cairn dir clean
	models/w.bin models/w.bin.cairn file clean
	EOF
	test_cmp expect actual
'

test_expect_success 'added, modified and deleted files are listed' '
	echo changed >repo/data/train/a &&
	echo new >repo/data/train/n &&
	rm repo/data/train/sub/c &&
	(
		cd repo &&
		cairn status >../out
	) &&
	cat >expect <<-\EOF &&
	modified: data/train
	    modified  data/train/a
	    added     data/train/n
	    deleted   data/train/sub/c
	EOF
	test_cmp expect out
'

test_expect_success '--json has the same states' '
	(
		cd repo &&
		cairn status --json >../out
	) &&
	status_summary <out >actual &&
	cat >expect <<-\EOF &&
	data/train data/train.cairn dir modified
	    modified data/train/a
	    added data/train/n
	    deleted data/train/sub/c
	models/w.bin models/w.bin.cairn file clean
	EOF
	test_cmp expect actual
'

test_expect_success 'status changes nothing in the work tree' '
	cp -R repo/data/train train.now &&
	(
		cd repo &&
		cairn status >/dev/null &&
		cairn status --json >/dev/null
	) &&
	diff -r train.now repo/data/train &&
	(
		cd repo &&
		git status --porcelain >../actual
	) &&
	test_must_be_empty actual
'

test_expect_success 'a same-size edit with the old mtime is still seen' '
	rm -rf repo/data/train &&
	cp -R train.orig repo/data/train &&
	touch -d @1600000000 repo/data/train/b &&
	(
		cd repo &&
		cairn add -q data/train &&
		git diff --exit-code &&
		cairn status >../out
	) &&
	test_grep "^all 2 tracked paths match" out &&
	echo BETA >repo/data/train/b &&
	touch -d @1600000000 repo/data/train/b &&
	(
		cd repo &&
		cairn status >../out
	) &&
	cat >expect <<-\EOF &&
	modified: data/train
	    modified  data/train/b
	EOF
	test_cmp expect out &&
	echo beta >repo/data/train/b
'

test_expect_success 'a changed mode is a modification' '
	chmod +x repo/data/train/a &&
	(
		cd repo &&
		cairn status >../out
	) &&
	cat >expect <<-\EOF &&
	modified: data/train
	    modified  data/train/a
	EOF
	test_cmp expect out &&
	chmod -x repo/data/train/a &&
	(
		cd repo &&
		cairn status >../out
	) &&
	test_grep "^all 2 tracked paths match" out
'

test_expect_success 'a single tracked file that changed' '
	echo other >repo/models/w.bin &&
	(
		cd repo &&
		cairn status >../out &&
		cairn status --json >../out.json
	) &&
	echo "modified: models/w.bin" >expect &&
	test_cmp expect out &&
	status_summary <out.json >actual &&
	test_grep -x "models/w.bin models/w.bin.cairn file modified" actual &&
	echo weights >repo/models/w.bin
'

test_expect_success 'a missing data path is reported' '
	mv repo/data/train moved-away &&
	(
		cd repo &&
		cairn status >../out &&
		cairn status --json >../out.json
	) &&
	test_grep "^missing: *data/train" out &&
	test_grep ! "models/w.bin" out &&
	status_summary <out.json >actual &&
	test_grep -x "data/train data/train.cairn dir missing" actual &&
	mv moved-away repo/data/train
'

test_expect_success 'a missing single file is reported' '
	mv repo/models/w.bin w.bin.away &&
	(
		cd repo &&
		cairn status >../out
	) &&
	test_grep "^missing: *models/w.bin" out &&
	mv w.bin.away repo/models/w.bin
'

test_expect_success 'a directory where a file was, and a file where a directory was' '
	rm -rf repo/data/train/sub &&
	echo now-a-file >repo/data/train/sub &&
	rm repo/data/train/b &&
	mkdir repo/data/train/b &&
	echo inside >repo/data/train/b/x &&
	(
		cd repo &&
		cairn status --json >../out.json
	) &&
	status_summary <out.json >actual &&
	test_grep -x "data/train data/train.cairn dir modified" actual &&
	test_grep -x "    added data/train/b/x" actual &&
	test_grep -x "    deleted data/train/b" actual &&
	test_grep -x "    added data/train/sub" actual &&
	test_grep -x "    deleted data/train/sub/c" actual &&
	rm -rf repo/data/train &&
	cp -R train.orig repo/data/train
'

test_expect_success 'status from a subdirectory' '
	echo changed >repo/data/train/a &&
	(
		cd repo &&
		cairn status >../expect
	) &&
	(
		cd repo/data/train/sub &&
		cairn status >../../../../actual
	) &&
	test_cmp expect actual &&
	test_grep "^modified: data/train" actual
'

test_expect_success 'status with the data path or its pointer as argument' '
	cat >expect <<-\EOF &&
	modified: data/train
	    modified  data/train/a
	EOF
	(
		cd repo &&
		cairn status data/train >../out1 &&
		cairn status data/train.cairn >../out2 &&
		cairn status data/train/ >../out3 &&
		cd data &&
		cairn status train >../../out4 &&
		cairn status train.cairn >../../out5
	) &&
	for i in 1 2 3 4 5
	do
		test_cmp expect out$i || return 1
	done
'

test_expect_success 'status of one clean path does not list the others' '
	(
		cd repo &&
		cairn status --json models/w.bin >../out.json &&
		cairn status models/w.bin >../out
	) &&
	status_summary <out.json >actual &&
	echo "models/w.bin models/w.bin.cairn file clean" >expect &&
	test_cmp expect actual &&
	test_grep ! data/train out
'

test_expect_success 'status of a path that is not tracked fails cleanly' '
	(
		cd repo &&
		test_must_fail cairn status no-such-path 2>../err
	) &&
	test_grep "^error: .*no-such-path" err &&
	(
		cd repo &&
		test_must_fail cairn status ../outside 2>../err
	) &&
	test_grep "^error: " err
'

test_expect_success 'status with an unknown option is a usage error' '
	(
		cd repo &&
		expect_code 129 cairn status --frob 2>../err
	) &&
	test_grep "^usage: cairn status" err
'

test_expect_success 'an older pointer from git: the changes are relative to it' '
	echo alpha >repo/data/train/a &&
	(
		cd repo &&
		echo v2 >data/train/v2-only &&
		cairn add -q data/train &&
		git commit -q -a -m v2 &&
		git checkout -q HEAD~1 -- data/train.cairn &&
		cairn status >../out
	) &&
	cat >expect <<-\EOF &&
	modified: data/train
	    added     data/train/v2-only
	EOF
	test_cmp expect out
'

test_expect_success 'names that need escaping in JSON' '
	mkdir -p repo/odd &&
	echo 1 >"repo/odd/q\"uote" &&
	printf 3 >"repo/odd/$(printf "tab\there")" &&
	echo 4 >"repo/odd/ünï cödé" &&
	(
		cd repo &&
		cairn add -q odd &&
		echo x >>"odd/q\"uote" &&
		echo y >>"odd/ünï cödé" &&
		printf y >>"odd/$(printf "tab\there")" &&
		cairn status --json odd >../out.json
	) &&
	status_summary <out.json >actual &&
	printf "%s\n" "odd odd.cairn dir modified" \
		"    modified odd/q\"uote" \
		"    modified odd/$(printf "tab\there")" \
		"    modified odd/ünï cödé" >expect &&
	test_cmp expect actual
'

test_done
