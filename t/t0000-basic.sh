#!/bin/sh

test_description='the test library itself

Checks t/lib.sh: the helpers, the environment every test gets, and (by
running small test scripts of its own) the TAP it prints for passing,
failing, skipped and broken tests. Needs no cairn binary.'

. "$(dirname "$0")/lib.sh"

# run_sub_test NAME [options]: run NAME.sh, a test script written into the
# trash directory, with its own trash under ./sub; its TAP goes to NAME.out,
# its stderr to NAME.err. Returns its exit status. The caller's CI settings
# and options must not change what the inner script does.
run_sub_test () {
	run_sub_test_name_=$1
	shift
	(
		unset CI CAIRN_TEST_NO_SKIP CAIRN_TEST_OPTS CAIRN_TEST_CHAIN_LINT \
			CAIRN_TEST_OUTPUT_DIRECTORY
		sh "$run_sub_test_name_.sh" --root="$TRASH_DIRECTORY/sub" "$@" \
			>"$run_sub_test_name_.out" 2>"$run_sub_test_name_.err"
	)
}

test_expect_success 'a passing test' '
	true
'

test_expect_success 'variables set in a body persist (no subshell)' '
	set_in_earlier_test=yes
'

test_expect_success 'variables set in a body persist, part 2' '
	test "$set_in_earlier_test" = yes
'

test_expect_success 'a cd in a body does not leak into the next test' '
	mkdir -p elsewhere &&
	cd elsewhere
'

test_expect_success 'each test starts in the trash directory' '
	test "$(pwd -P)" = "$TRASH_DIRECTORY" &&
	test "${TRASH_DIRECTORY##*/}" = trash.t0000-basic
'

test_expect_success 'HOME is the trash directory' '
	test "$HOME" = "$TRASH_DIRECTORY" &&
	test ~ = "$TRASH_DIRECTORY" &&
	test "$(cd && pwd -P)" = "$TRASH_DIRECTORY" &&
	test_path_is_file "$HOME/.gitconfig" &&
	test_path_is_missing "$HOME/.ssh"
'

test_expect_success 'the environment is fixed' '
	test "$LC_ALL" = C &&
	test "$TZ" = UTC &&
	test "$GIT_CONFIG_NOSYSTEM" = 1 &&
	test -n "$GIT_AUTHOR_NAME" &&
	test -n "$GIT_AUTHOR_EMAIL" &&
	test -n "$GIT_COMMITTER_NAME" &&
	test -n "$GIT_COMMITTER_EMAIL" &&
	test -z "${GIT_DIR+set}" &&
	test -z "${SSH_AUTH_SOCK+set}" &&
	case ":$ASAN_OPTIONS:" in *:abort_on_error=1:*) ;; *) false ;; esac &&
	case ":$UBSAN_OPTIONS:" in *:halt_on_error=1:*) ;; *) false ;; esac
'

test_expect_success 'PATH starts with the build directory' '
	test "$CAIRN_BUILD_DIR/t" = "$TEST_DIRECTORY" &&
	test_path_is_file "$TEST_DIRECTORY/lib.sh" &&
	case "$PATH" in "$CAIRN_BUILD_DIR":*) ;; *) false ;; esac &&
	test_path_is_file "$CAIRN_BUILD_DIR/Makefile"
'

test_expect_success GIT 'git uses the isolated ~/.gitconfig' '
	echo main >expect &&
	git config --global init.defaultBranch >actual &&
	test_cmp expect actual &&
	git config user.name >actual &&
	test_file_not_empty actual &&
	git init -q repo &&
	echo refs/heads/main >expect &&
	git -C repo symbolic-ref HEAD >actual &&
	test_cmp expect actual
'

test_expect_success GIT 'git does not find the checkout around the trash' '
	mkdir not-a-repo &&
	(
		cd not-a-repo &&
		test_must_fail git rev-parse --git-dir
	)
'

test_expect_success 'test_cmp accepts equal files and rejects different ones' '
	printf "a\nb\n" >one &&
	printf "a\nb\n" >two &&
	printf "a\nc\n" >three &&
	test_cmp one two &&
	! test_cmp one three 8>diff &&
	test_grep "^-b" diff &&
	test_grep "^+c" diff &&
	! test_cmp one no-such-file 8>/dev/null 2>&1
'

test_expect_success 'test_must_fail accepts a clean failure' '
	test_must_fail false &&
	test_must_fail sh -c "exit 1" &&
	test_must_fail sh -c "exit 2" &&
	test_must_fail sh -c "exit 128"
'

test_expect_success 'test_must_fail rejects success' '
	! test_must_fail true 8>msg &&
	test_grep "command succeeded" msg
'

test_expect_success 'test_must_fail rejects a command killed by a signal' '
	(
		ulimit -c 0 2>/dev/null
		! test_must_fail sh -c "kill -SEGV \$\$" 8>msg &&
		test_grep "died of signal 11" msg &&
		! test_must_fail sh -c "kill -ABRT \$\$" 8>/dev/null &&
		! test_must_fail sh -c "kill -TERM \$\$" 8>/dev/null &&
		! test_must_fail sh -c "exit 130" 8>/dev/null &&
		test_must_fail sh -c "exit 129" 8>/dev/null
	)
'

test_expect_success 'test_must_fail rejects a command that is not found' '
	! test_must_fail no-such-command-xyzzy 8>msg 2>/dev/null &&
	test_grep "not found" msg
'

test_expect_success 'test_must_fail leaves the command stderr to the caller' '
	test_must_fail sh -c "echo oops >&2; exit 1" 2>err &&
	test_grep oops err
'

test_expect_success 'test_might_fail accepts success and failure, not a crash' '
	test_might_fail true &&
	test_might_fail false &&
	! test_might_fail sh -c "kill -TERM \$\$" 8>/dev/null
'

test_expect_success 'test_line_count' '
	test_seq 3 >three-lines &&
	test_line_count = 3 three-lines &&
	test_line_count -gt 2 three-lines &&
	! test_line_count = 2 three-lines 8>/dev/null &&
	: >empty &&
	test_line_count = 0 empty
'

test_expect_success 'test_path_is_* and friends' '
	mkdir dir &&
	echo content >file &&
	: >empty-file &&
	test_path_is_file file &&
	test_path_is_dir dir &&
	test_path_is_missing no-such-path &&
	test_file_not_empty file &&
	test_must_be_empty empty-file &&
	! test_path_is_file dir 8>/dev/null &&
	! test_path_is_dir file 8>/dev/null &&
	! test_path_is_missing file 8>/dev/null &&
	! test_file_not_empty empty-file 8>/dev/null &&
	! test_must_be_empty file 8>/dev/null
'

test_expect_success SYMLINKS 'test_path_is_missing sees a dangling symlink' '
	ln -s nowhere dangling &&
	! test_path_is_missing dangling 8>/dev/null
'

test_expect_success 'test_grep' '
	printf "alpha\nbeta\n" >greek &&
	test_grep alpha greek &&
	test_grep -E "^(alpha|gamma)$" greek &&
	test_grep -v gamma greek &&
	test_grep ! gamma greek &&
	! test_grep gamma greek 8>msg &&
	test_grep "no match" msg &&
	test_grep beta msg &&
	! test_grep -v alpha greek 8>/dev/null &&
	! test_grep -v alpha no-such-file 8>/dev/null
'

test_expect_success 'test_seq' '
	printf "1\n2\n3\n" >expect &&
	test_seq 3 >actual &&
	test_cmp expect actual &&
	printf "5\n6\n" >expect &&
	test_seq 5 6 >actual &&
	test_cmp expect actual
'

test_expect_success 'write_script' '
	write_script hello.sh <<-\EOF &&
	echo "hello $1"
	EOF
	test -x hello.sh &&
	echo "hello world" >expect &&
	./hello.sh world >actual &&
	test_cmp expect actual &&
	head -n 1 hello.sh >shebang &&
	echo "#!/bin/sh" >expect &&
	test_cmp expect shebang
'

test_expect_success 'test_tick' '
	test_tick &&
	test "$GIT_COMMITTER_DATE" = "1700000000 +0000" &&
	test_tick &&
	test "$GIT_COMMITTER_DATE" = "1700000060 +0000" &&
	test "$GIT_AUTHOR_DATE" = "$GIT_COMMITTER_DATE"
'

test_expect_success 'prerequisites' '
	test_set_prereq HAVE_IT &&
	test_have_prereq HAVE_IT &&
	! test_have_prereq NOT_SET &&
	test_have_prereq !NOT_SET &&
	test_have_prereq HAVE_IT,!NOT_SET &&
	! test_have_prereq HAVE_IT,NOT_SET &&
	test_lazy_prereq LAZY_TRUE "true" &&
	test_lazy_prereq LAZY_FALSE "false" &&
	test_have_prereq LAZY_TRUE &&
	! test_have_prereq LAZY_FALSE
'

test_expect_success HAVE_IT 'a prerequisite set in one test counts in the next' '
	true
'

test_expect_success 'test_when_finished runs after the test (setup)' '
	test_when_finished "echo cleaned >cleanup-ran" &&
	test_path_is_missing cleanup-ran
'

test_expect_success 'test_when_finished runs after the test' '
	test_path_is_file cleanup-ran
'

test_expect_success 't/gen-dataset runs here and is deterministic' '
	"$TEST_DIRECTORY/gen-dataset" --out ds1 --scale 0.001 -q --digest \
		tabular images-v2 >digest1 &&
	"$TEST_DIRECTORY/gen-dataset" --out ds2 --scale 0.001 -q --digest \
		tabular images-v2 >digest2 &&
	test_cmp digest1 digest2 &&
	test_line_count = 2 digest1 &&
	test_path_is_file ds1/tabular/events.csv &&
	test_path_is_dir ds1/images-v2 &&
	rm -rf ds1 ds2
'

test_expect_success 'TAP for passing, failing, skipped and broken tests' '
	write_script mixed.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "passes" "true"
	test_expect_success "fails half way" "
		echo first-half &&
		false &&
		echo second-half >reached
	"
	test_expect_success NOPE "skipped" "false"
	test_expect_failure "known breakage" "false"
	test_expect_failure "fixed breakage" "true"
	test_expect_success "a # in a title" "true"
	test_expect_success "after a failure the next test runs" "true"
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - passes
	not ok 2 - fails half way
	ok 3 # skip skipped (missing NOPE)
	not ok 4 - known breakage # TODO known breakage
	ok 5 - fixed breakage # TODO known breakage vanished
	ok 6 - a \# in a title
	ok 7 - after a failure the next test runs
	# 1 known breakage(s) vanished; use test_expect_success for them
	# still have 1 known breakage(s)
	# failed 1 among 7 test(s)
	1..7
	EOF
	{ run_sub_test mixed; echo $? >status; } &&
	test_cmp expect mixed.out &&
	echo 1 >expect &&
	test_cmp expect status &&
	test_grep "^# first-half" mixed.err &&
	test_grep "^# 	false &&" mixed.err &&
	test_grep "trash directory kept" mixed.err &&
	test_path_is_dir sub/trash.mixed &&
	test_path_is_missing sub/trash.mixed/reached
'

test_expect_success 'all passing: exit 0, trash removed, kept with -d' '
	write_script pass.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_lazy_prereq LAZY_OK "echo lazy-output"
	test_expect_success "passes" "
		echo hello-from-body &&
		test_have_prereq LAZY_OK &&
		: >made-it
	"
	test_done
	EOF
	run_sub_test pass &&
	test_grep "^1\.\.1$" pass.out &&
	test_path_is_missing sub/trash.pass &&
	run_sub_test pass -d &&
	test_path_is_file sub/trash.pass/made-it
'

test_expect_success '-v shows the output, on stderr, away from the TAP' '
	run_sub_test pass -v &&
	test_grep hello-from-body pass.err &&
	test_grep ! hello-from-body pass.out &&
	run_sub_test pass &&
	test_grep ! hello-from-body pass.err
'

test_expect_success 'test_when_finished runs when the test fails, last first' '
	write_script finish.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "fails" "
		test_when_finished \"echo one >>\$TRASH_DIRECTORY/order\" &&
		test_when_finished \"echo two >>\$TRASH_DIRECTORY/order\" &&
		false
	"
	test_expect_success "cleanup fails" "
		test_when_finished false &&
		true
	"
	test_done
	EOF
	test_must_fail run_sub_test finish &&
	test_grep "^not ok 1 - fails" finish.out &&
	test_grep "^not ok 2 - cleanup fails" finish.out &&
	printf "two\none\n" >expect &&
	test_cmp expect sub/trash.finish/order
'

test_expect_success 'a failing body makes the script fail, -i stops there' '
	write_script immediate.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "fails" "false"
	test_expect_success "passes" "true"
	test_done
	EOF
	test_must_fail run_sub_test immediate &&
	test_grep "^ok 2 - passes" immediate.out &&
	test_must_fail run_sub_test immediate -i &&
	test_grep ! "^ok 2" immediate.out &&
	test_grep "^1\.\.1$" immediate.out
'

test_expect_success 'a broken &&-chain or a syntax error fails the test' '
	write_script lint.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "broken chain" "
		true
		true
	"
	test_expect_success "syntax error" "if true"
	test_expect_success "still running" "true"
	test_done
	EOF
	test_must_fail run_sub_test lint &&
	test_grep "^not ok 1 - broken chain" lint.out &&
	test_grep "^not ok 2 - syntax error" lint.out &&
	test_grep "^ok 3 - still running" lint.out &&
	test_grep "broken &&-chain" lint.err
'

test_expect_success 'exit in a body, or no test_done, fails the script' '
	write_script exits.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "passes" "true"
	test_expect_success "exits" "exit 0"
	test_done
	EOF
	test_must_fail run_sub_test exits &&
	test_grep "^not ok 2 - exits" exits.out &&
	test_grep "^1\.\.2$" exits.out &&
	write_script nodone.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "passes" "true"
	EOF
	test_must_fail run_sub_test nodone &&
	test_grep "FATAL: unexpected exit" nodone.err &&
	write_script notests.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_done
	EOF
	test_must_fail run_sub_test notests &&
	test_grep "^not ok 1 - no tests were run" notests.out
'

test_expect_success 'skip_all skips, except in CI' '
	write_script skip.sh <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	skip_all="no frobnicator"
	test_done
	EOF
	run_sub_test skip &&
	echo "1..0 # SKIP no frobnicator" >expect &&
	test_cmp expect skip.out &&
	test_path_is_missing sub/trash.skip &&

	cat >expect <<-\EOF &&
	not ok 1 - required prerequisite missing: no frobnicator
	# failed 1 among 1 test(s)
	1..1
	EOF
	(
		run_sub_test_ci () {
			(
				CI=$1 &&
				export CI &&
				sh skip.sh --root="$TRASH_DIRECTORY/sub" >skip.out 2>skip.err
			)
		} &&
		test_must_fail run_sub_test_ci true &&
		test_cmp expect skip.out &&
		test_must_fail run_sub_test_ci "" &&
		test_cmp expect skip.out
	) &&
	(
		unset CI &&
		CAIRN_TEST_NO_SKIP=1 &&
		export CAIRN_TEST_NO_SKIP &&
		test_must_fail sh skip.sh --root="$TRASH_DIRECTORY/sub" >skip.out 2>skip.err
	) &&
	test_cmp expect skip.out
'

test_done
