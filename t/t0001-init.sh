#!/bin/sh

test_description='cairn init: .cairn/ in a git work tree, chunk sizes, errors'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

# A fresh directory outside every git work tree. cairn looks for .git in
# every parent directory (it does not honour GIT_CEILING_DIRECTORIES), so
# a directory inside the trash is not enough: the cairn checkout's own .git
# is above it.
make_nogit_dir () {
	nogit_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-t0001.XXXXXX") || return 1
	nogit_probe=$nogit_dir
	while test -n "$nogit_probe" && test "$nogit_probe" != /
	do
		if test -e "$nogit_probe/.git"
		then
			rm -rf "$nogit_dir"
			return 1
		fi
		nogit_probe=${nogit_probe%/*}
	done
	! test -e /.git || { rm -rf "$nogit_dir"; return 1; }
}

test_lazy_prereq NOGIT_TMP '
	make_nogit_dir && rm -rf "$nogit_dir"
'

test_expect_success 'setup: a git repository' '
	git init -q repo &&
	git -C repo rev-parse --show-toplevel
'

test_expect_success 'init creates .cairn/config, .cairn/.gitignore and the store' '
	(
		cd repo &&
		cairn init >../out 2>../err
	) &&
	test_grep "^Initialized cairn in " out &&
	test_must_be_empty err &&
	test_path_is_file repo/.cairn/config &&
	test_path_is_file repo/.cairn/.gitignore &&
	test_path_is_dir repo/.cairn/store
'

test_expect_success 'the config (read by git) has the format and default chunk sizes' '
	echo 1 >expect &&
	git config -f repo/.cairn/config core.format >actual &&
	test_cmp expect actual &&
	printf "16384\n65536\n262144\n" >expect &&
	{
		git config -f repo/.cairn/config chunker.min &&
		git config -f repo/.cairn/config chunker.avg &&
		git config -f repo/.cairn/config chunker.max
	} >actual &&
	test_cmp expect actual
'

test_expect_success 'the store stays out of git, the settings do not' '
	(
		cd repo &&
		git status --porcelain -uall >../actual
	) &&
	cat >expect <<-\EOF &&
	?? .cairn/.gitignore
	?? .cairn/config
	EOF
	test_cmp expect actual &&
	git -C repo check-ignore -q .cairn/store/packs/x.pack &&
	git -C repo check-ignore -q .cairn/config.local &&
	test_must_fail git -C repo check-ignore -q .cairn/config
'

test_expect_success 'init again is fine, says so and keeps the config' '
	cp repo/.cairn/config config.before &&
	(
		cd repo &&
		cairn init >../out
	) &&
	test_grep "^Reinitialized existing cairn repository" out &&
	test_cmp config.before repo/.cairn/config
'

test_expect_success 'init in a subdirectory sets up the top of the work tree' '
	git init -q sub-repo &&
	mkdir -p sub-repo/a/b &&
	(
		cd sub-repo/a/b &&
		cairn init >/dev/null
	) &&
	test_path_is_file sub-repo/.cairn/config &&
	test_path_is_missing sub-repo/a/b/.cairn &&
	test_path_is_missing sub-repo/a/.cairn
'

test_expect_success 'init --chunk-size 1K:4K:16K is recorded' '
	git init -q small &&
	(
		cd small &&
		cairn init --chunk-size 1K:4K:16K >../out
	) &&
	test_grep "1024/4096/16384" out &&
	printf "1024\n4096\n16384\n" >expect &&
	{
		git config -f small/.cairn/config chunker.min &&
		git config -f small/.cairn/config chunker.avg &&
		git config -f small/.cairn/config chunker.max
	} >actual &&
	test_cmp expect actual
'

test_expect_success 'init --chunk-size takes plain byte counts and M' '
	git init -q plain &&
	(
		cd plain &&
		cairn init --chunk-size 512:2048:1M >/dev/null
	) &&
	printf "512\n2048\n1048576\n" >expect &&
	{
		git config -f plain/.cairn/config chunker.min &&
		git config -f plain/.cairn/config chunker.avg &&
		git config -f plain/.cairn/config chunker.max
	} >actual &&
	test_cmp expect actual
'

test_expect_success 'a malformed --chunk-size is a usage error (129), nothing created' '
	git init -q bad &&
	for cs in 1K:4K 1K:4K:16K:64K abc 1K::16K -1K:4K:16K "" 1X:4K:16K
	do
		(
			cd bad &&
			expect_code 129 cairn init --chunk-size "$cs" >../out 2>../err
		) &&
		test_grep "^error: .*chunk-size" err &&
		test_grep "^usage: cairn init" err &&
		test_must_be_empty out &&
		test_path_is_missing bad/.cairn || return 1
	done
'

test_expect_success '--chunk-size without a value is a usage error' '
	(
		cd bad &&
		expect_code 129 cairn init --chunk-size 2>../err
	) &&
	test_grep "^error: " err &&
	test_grep "^usage: cairn init" err &&
	test_path_is_missing bad/.cairn
'

test_expect_success 'impossible chunk sizes are refused with an error, nothing created' '
	for cs in 4K:1K:16K 1K:3K:16K 32:64:128 1K:4K:4K 4K:4K:16K
	do
		(
			cd bad &&
			test_must_fail cairn init --chunk-size "$cs" 2>../err
		) &&
		test_grep "^error: " err &&
		test_path_is_missing bad/.cairn || return 1
	done
'

test_expect_success 'init --chunk-size 0:0:0 is refused' '
	test_when_finished "rm -rf bad/.cairn" &&
	(
		cd bad &&
		test_must_fail cairn init --chunk-size 0:0:0 2>../err
	) &&
	test_grep "^error: " err &&
	test_path_is_missing bad/.cairn
'

test_expect_success 'chunk sizes cannot change after init' '
	cp small/.cairn/config config.before &&
	(
		cd small &&
		test_must_fail cairn init --chunk-size 2K:8K:32K 2>../err
	) &&
	test_grep "^error: .*already" err &&
	test_cmp config.before small/.cairn/config
'

test_expect_success 'an unknown option is a usage error' '
	(
		cd bad &&
		expect_code 129 cairn init --frobnicate 2>../err
	) &&
	test_grep "^error: .*--frobnicate" err &&
	test_grep "^usage: cairn init" err &&
	test_path_is_missing bad/.cairn
'

test_expect_success '--compress-level is checked and recorded' '
	for lvl in 0 20 x ""
	do
		(
			cd bad &&
			expect_code 129 cairn init --compress-level "$lvl" 2>../err
		) &&
		test_grep "^error: .*compress-level" err &&
		test_path_is_missing bad/.cairn || return 1
	done &&
	git init -q level &&
	(
		cd level &&
		cairn init --compress-level 7 >/dev/null
	) &&
	echo 7 >expect &&
	git config -f level/.cairn/config compress.level >actual &&
	test_cmp expect actual
'

test_expect_success 'init -h prints the usage on stdout and exits 0' '
	(
		cd bad &&
		cairn init -h >../out 2>../err
	) &&
	test_grep "^usage: cairn init" out &&
	test_must_be_empty err &&
	test_path_is_missing bad/.cairn
'

test_expect_success NOGIT_TMP 'init outside a git work tree fails cleanly' '
	make_nogit_dir &&
	test_when_finished "rm -rf \"\$nogit_dir\"" &&
	(
		cd "$nogit_dir" &&
		test_must_fail cairn init >"$TRASH_DIRECTORY/out" 2>"$TRASH_DIRECTORY/err"
	) &&
	test_grep "^error: .*git" err &&
	test_path_is_missing "$nogit_dir/.cairn"
'

test_expect_success NOGIT_TMP 'other commands outside a git work tree fail cleanly' '
	make_nogit_dir &&
	test_when_finished "rm -rf \"\$nogit_dir\"" &&
	echo data >"$nogit_dir/f" &&
	for c in status "add f" checkout "ls f" stats "config --list"
	do
		(
			cd "$nogit_dir" &&
			test_must_fail cairn $c 2>"$TRASH_DIRECTORY/err"
		) &&
		test_grep "^error: .*git" err &&
		test_path_is_missing "$nogit_dir/.cairn" &&
		test_path_is_missing "$nogit_dir/f.cairn" || return 1
	done
'

test_expect_success 'init honours GIT_CEILING_DIRECTORIES like git does' '
	git init -q outer &&
	mkdir outer/inner &&
	test_when_finished "rm -rf outer/.cairn" &&
	(
		GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY/outer &&
		export GIT_CEILING_DIRECTORIES &&
		cd outer/inner &&
		test_must_fail git rev-parse --show-toplevel &&
		test_must_fail cairn init 2>"$TRASH_DIRECTORY/err"
	) &&
	test_grep "^error: " err &&
	test_path_is_missing outer/.cairn
'

test_expect_success 'commands other than init need cairn init first' '
	git init -q fresh &&
	echo data >fresh/f &&
	for c in status "add f" checkout "ls f" stats "config --list" "config core.format"
	do
		(
			cd fresh &&
			test_must_fail cairn $c >../out 2>../err
		) &&
		test_grep "^error: .*cairn init" err &&
		test_path_is_missing fresh/.cairn &&
		test_path_is_missing fresh/f.cairn &&
		test_path_is_missing fresh/.gitignore || return 1
	done
'

test_expect_success 'help and version work without a repository' '
	(
		cd fresh &&
		cairn help >../out &&
		cairn --version >>../out
	) &&
	test_grep "^usage: cairn" out &&
	test_grep "^cairn version " out &&
	test_path_is_missing fresh/.cairn
'

test_done
