#!/bin/sh

test_description='cairn remote: add, list, remove, rename, default, --local

Remotes are named URLs in .cairn/config (committed, so every clone knows
them) or, with --local, in .cairn/config.local. The first remote added
becomes the default (core.remote); -d makes any later one the default.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

test_expect_success 'setup: a cairn repository' '
	git init -q repo &&
	(cd repo && cairn init >/dev/null) &&
	git -C repo add .cairn &&
	git -C repo commit -q -m init
'

test_expect_success 'list with no remote prints nothing; no default (exit 1)' '
	(
		cd repo &&
		cairn remote >../out 2>../err &&
		cairn remote list -v >../out-v 2>>../err &&
		expect_code 1 cairn remote default >../out-d 2>>../err
	) &&
	test_must_be_empty out &&
	test_must_be_empty out-v &&
	test_must_be_empty out-d &&
	test_must_be_empty err
'

test_expect_success 'the first remote added becomes the default' '
	(
		cd repo &&
		cairn remote add origin "$TRASH_DIRECTORY/remote-a" >../out 2>../err &&
		cairn remote default >../default
	) &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	echo origin >expect &&
	test_cmp expect default &&
	test_grep "^[[:space:]]*url = $TRASH_DIRECTORY/remote-a\$" repo/.cairn/config &&
	test_grep "^[[:space:]]*remote = origin\$" repo/.cairn/config
'

test_expect_success 'a second remote without -d does not move the default' '
	(
		cd repo &&
		cairn remote add backup "$TRASH_DIRECTORY/remote-b" &&
		cairn remote default >../default
	) &&
	echo origin >expect &&
	test_cmp expect default
'

test_expect_success 'list: names, the default marked' '
	(cd repo && cairn remote list >../out) &&
	cat >expect <<-\EOF &&
	origin (default)
	backup
	EOF
	sort expect >expect.sorted &&
	sort out >out.sorted &&
	test_cmp expect.sorted out.sorted &&
	(cd repo && cairn remote >../out-bare) &&
	test_cmp out out-bare
'

test_expect_success 'list -v (and remote -v): names, URLs and (default)' '
	(
		cd repo &&
		cairn remote list -v >../out &&
		cairn remote -v >../out2
	) &&
	printf "origin\t%s (default)\nbackup\t%s\n" \
		"$TRASH_DIRECTORY/remote-a" "$TRASH_DIRECTORY/remote-b" >expect &&
	sort expect >expect.sorted &&
	sort out >out.sorted &&
	test_cmp expect.sorted out.sorted &&
	test_cmp out out2
'

test_expect_success 'add -d makes the new remote the default' '
	(
		cd repo &&
		cairn remote add -d third "$TRASH_DIRECTORY/remote-c" &&
		cairn remote default >../default &&
		cairn remote list >../out
	) &&
	echo third >expect &&
	test_cmp expect default &&
	test_grep -x "third (default)" out &&
	test_grep -x "origin" out
'

test_expect_success 'default NAME switches the default; an unknown NAME fails' '
	(
		cd repo &&
		cairn remote default origin &&
		cairn remote default >../default &&
		test_must_fail cairn remote default nosuch 2>../err &&
		cairn remote default >../default2
	) &&
	echo origin >expect &&
	test_cmp expect default &&
	test_cmp expect default2 &&
	test_grep "^error: .*nosuch" err
'

test_expect_success 'a relative URL is shown resolved against the top of the repository' '
	mkdir -p repo/sub &&
	(
		cd repo/sub &&
		cairn remote add rel ../relremote &&
		cairn remote -v >../../out
	) &&
	test_grep -E "^rel	($TRASH_DIRECTORY/repo/\.\./relremote|$TRASH_DIRECTORY/relremote)\$" out &&
	(cd repo && cairn remote remove rel)
'

test_expect_success 'add with a bad name fails and changes nothing' '
	cp repo/.cairn/config config.before &&
	for name in "bad/name" "a b" "bad.name" "" "x@y" "na:me" "$(printf "a\\tb")"
	do
		(
			cd repo &&
			test_must_fail cairn remote add "$name" /tmp/somewhere 2>../err
		) &&
		test_grep "^error: " err &&
		test_cmp config.before repo/.cairn/config || return 1
	done
'

test_expect_success 'add of a name that exists fails and keeps its URL' '
	cp repo/.cairn/config config.before &&
	(
		cd repo &&
		test_must_fail cairn remote add origin /tmp/other 2>../err
	) &&
	test_grep "^error: .*origin.*exists" err &&
	test_cmp config.before repo/.cairn/config
'

test_expect_success 'add of a bad URL fails: unknown scheme, empty, no path, password' '
	cp repo/.cairn/config config.before &&
	for url in "ftp://host/p" "s3x://bucket/p" "" "file://relative/p" \
		"ssh://host" "ssh://u:secret@host/p" "u:secret@host:path"
	do
		(
			cd repo &&
			test_must_fail cairn remote add x "$url" 2>../err
		) &&
		test_grep "^error: " err &&
		test_cmp config.before repo/.cairn/config || return 1
	done
'

test_expect_success 'a refused password never appears in the error (ssh and scp forms)' '
	for url in "ssh://u:s3cr3t@host/p" "u:s3cr3t@host:path"
	do
		(
			cd repo &&
			test_must_fail cairn remote add x "$url" 2>../err
		) &&
		test_grep "^error: .*password" err &&
		test_grep ! s3cr3t err || return 1
	done
'

test_expect_success 'a password in a URL of an unknown scheme is not printed' '
	(
		cd repo &&
		test_must_fail cairn remote add x "https://u:s3cr3t@host/p" 2>../err
	) &&
	test_grep "^error: " err &&
	test_grep ! s3cr3t err
'

test_expect_success 'remove deletes the remote; removing the default clears it' '
	(
		cd repo &&
		cairn remote remove backup &&
		cairn remote list >../out1 &&
		cairn remote default >../default1 &&
		cairn remote remove origin &&
		cairn remote list >../out2 &&
		expect_code 1 cairn remote default >../default2
	) &&
	test_grep ! "^backup" out1 &&
	echo origin >expect &&
	test_cmp expect default1 &&
	test_grep ! "^origin" out2 &&
	test_grep -x "third" out2 &&
	test_must_be_empty default2 &&
	test_grep ! "remote = origin" repo/.cairn/config &&
	test_grep ! "remote-a" repo/.cairn/config &&
	test_grep ! "remote-b" repo/.cairn/config
'

test_expect_success 'remove and rename of an unknown remote fail' '
	cp repo/.cairn/config config.before &&
	(
		cd repo &&
		test_must_fail cairn remote remove nosuch 2>../err1 &&
		test_must_fail cairn remote rename nosuch other 2>../err2
	) &&
	test_grep "^error: .*nosuch" err1 &&
	test_grep "^error: .*nosuch" err2 &&
	test_cmp config.before repo/.cairn/config
'

test_expect_success 'rename: the URL moves, the default follows' '
	(
		cd repo &&
		cairn remote default third &&
		cairn remote rename third main &&
		cairn remote default >../default &&
		cairn remote -v >../out
	) &&
	echo main >expect &&
	test_cmp expect default &&
	printf "main\t%s (default)\n" "$TRASH_DIRECTORY/remote-c" >expect &&
	test_cmp expect out &&
	test_grep ! third repo/.cairn/config
'

test_expect_success 'rename of a remote that is not the default leaves the default' '
	(
		cd repo &&
		cairn remote add other /tmp/other &&
		cairn remote rename other other2 &&
		cairn remote default >../default &&
		cairn remote list >../out
	) &&
	echo main >expect &&
	test_cmp expect default &&
	test_grep -x other2 out &&
	test_grep ! "^other\$" out
'

test_expect_success 'rename to a bad or existing name fails and changes nothing' '
	cp repo/.cairn/config config.before &&
	(
		cd repo &&
		test_must_fail cairn remote rename other2 main 2>../err1 &&
		test_must_fail cairn remote rename other2 "bad/name" 2>../err2
	) &&
	test_grep "^error: " err1 &&
	test_grep "^error: " err2 &&
	test_cmp config.before repo/.cairn/config &&
	(cd repo && cairn remote remove other2)
'

test_expect_success 'the remote configuration is committed: a git clone knows it' '
	git -C repo add .cairn/config &&
	git -C repo commit -q -m "remote main" &&
	git clone -q repo clone &&
	(
		cd clone &&
		cairn remote -v >../out &&
		cairn remote default >../default
	) &&
	printf "main\t%s (default)\n" "$TRASH_DIRECTORY/remote-c" >expect &&
	test_cmp expect out &&
	echo main >expect &&
	test_cmp expect default
'

test_expect_success '--local writes .cairn/config.local, not .cairn/config' '
	cp clone/.cairn/config config.before &&
	(
		cd clone &&
		cairn remote add --local mine "$TRASH_DIRECTORY/mine" &&
		cairn remote -v >../out &&
		git status --porcelain >../git-status
	) &&
	test_cmp config.before clone/.cairn/config &&
	test_grep "mine" clone/.cairn/config.local &&
	test_grep "^mine	$TRASH_DIRECTORY/mine\$" out &&
	test_grep "^main	.* (default)\$" out &&
	test_must_be_empty git-status
'

test_expect_success '--local -d: the default is set for this clone only' '
	cp clone/.cairn/config config.before &&
	(
		cd clone &&
		cairn remote add --local -d mine2 "$TRASH_DIRECTORY/mine2" &&
		cairn remote default >../default
	) &&
	echo mine2 >expect &&
	test_cmp expect default &&
	test_cmp config.before clone/.cairn/config &&
	(cd repo && cairn remote default >../default-repo) &&
	echo main >expect &&
	test_cmp expect default-repo
'

test_expect_success 'remove of a --local remote edits only .cairn/config.local' '
	cp clone/.cairn/config config.before &&
	(
		cd clone &&
		cairn remote remove mine &&
		cairn remote list >../out
	) &&
	test_cmp config.before clone/.cairn/config &&
	test_grep ! "mine\$" clone/.cairn/config.local &&
	test_grep ! "^mine\$" out
'

test_expect_success 'setup: a fresh repository whose only remote is --local' '
	git init -q lrepo &&
	(cd lrepo && cairn init >/dev/null) &&
	cp lrepo/.cairn/config lconfig.before
'

test_expect_success 'remove of a --local default remote clears the default' '
	(
		cd lrepo &&
		cairn remote add --local loc "$TRASH_DIRECTORY/loc" &&
		cairn remote default >../default &&
		cairn remote remove loc &&
		expect_code 1 cairn remote default >../default2
	) &&
	echo loc >expect &&
	test_cmp expect default &&
	test_must_be_empty default2
'

test_expect_success 'rename of a --local default remote: the default follows, config untouched' '
	rm -rf lrepo && git init -q lrepo &&
	(cd lrepo && cairn init >/dev/null) &&
	cp lrepo/.cairn/config lconfig.before &&
	(
		cd lrepo &&
		cairn remote add --local loc "$TRASH_DIRECTORY/loc" &&
		cairn remote rename loc loc2 &&
		cairn remote default >../default
	) &&
	echo loc2 >expect &&
	test_cmp expect default &&
	test_cmp lconfig.before lrepo/.cairn/config
'

test_expect_success 'remote -h: the usage on stdout, exit 0' '
	(cd repo && cairn remote -h >../out 2>../err) &&
	test_must_be_empty err &&
	cat >expect <<-\EOF &&
	usage: cairn remote [list] [-v]
	   or: cairn remote add [-d] [--local] NAME URL
	   or: cairn remote remove NAME
	   or: cairn remote rename OLD NEW
	   or: cairn remote default [NAME]
	EOF
	test_cmp expect out
'

test_expect_success 'an unknown subcommand or option: error and usage, exit 129' '
	(
		cd repo &&
		expect_code 129 cairn remote frobnicate >../out1 2>../err1 &&
		expect_code 129 cairn remote add --frob x /tmp/x >../out2 2>../err2 &&
		expect_code 129 cairn remote add onlyname >../out3 2>../err3 &&
		expect_code 129 cairn remote remove >../out4 2>../err4 &&
		expect_code 129 cairn remote rename one >../out5 2>../err5
	) &&
	for i in 1 2 3 4 5
	do
		test_must_be_empty out$i &&
		test_grep "^error: " err$i &&
		test_grep "^usage: cairn remote" err$i || return 1
	done &&
	test_grep "frobnicate" err1
'

test_expect_success 'remote outside a cairn repository fails' '
	mkdir -p plain &&
	git init -q plain &&
	(
		cd plain &&
		test_must_fail cairn remote add x /tmp/x 2>../err
	) &&
	test_grep "^error: " err &&
	test_path_is_missing plain/.cairn
'

test_expect_success 'cairn help remote|push|fetch|pull: the manual holds the usage lines' '
	for c in remote push fetch pull
	do
		cairn help $c >help-$c 2>err &&
		test_must_be_empty err &&
		test_grep "^SYNOPSIS" help-$c &&
		test_grep "^EXAMPLES" help-$c &&
		test_grep "^SEE ALSO" help-$c &&
		cairn $c -h >usage-$c 2>err &&
		sed -e "s/^usage: //" -e "s/^   or: //" usage-$c >synopsis-$c &&
		while IFS= read -r line
		do
			test_grep -x -F -e "    $line" help-$c || return 1
		done <synopsis-$c || return 1
	done
'

test_done
