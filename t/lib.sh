# lib.sh: the cairn shell test library (TAP output, run by prove).
#
# Sourced by every test script t/tNNNN-name.sh:
#
#	#!/bin/sh
#	test_description='what this script covers'
#	. "$(dirname "$0")/lib.sh"
#
#	test_expect_success 'title' '
#		echo hello >expect &&
#		cairn some-command >actual &&
#		test_cmp expect actual
#	'
#
#	test_done
#
# Written for cairn from scratch (git's test library is GPL and is not used
# here); it follows the same conventions so git's habits carry over. Plain
# POSIX sh: it must run under dash as well as bash. See t/README for the list
# of helpers and the rules for writing tests.
#
# File descriptors used by the library (a test body must not touch them):
#	5	TAP output (the script's original stdout); closed inside bodies
#	6	the script's original stderr; closed inside bodies
#	8	where helpers report problems: the current test's output (the
#		log, or the terminal with -v), the original stderr outside tests
# Bodies run with fds 5 and 6 closed so that a daemon started by a test can
# never hold prove's pipe open.

# ---------------------------------------------------------------------------
# Where we are.

test_script_dir_=$(cd "$(dirname "$0")" && pwd -P) || exit 1
if test -f "$test_script_dir_/lib.sh"
then
	TEST_DIRECTORY=$test_script_dir_
elif test -n "${TEST_DIRECTORY:-}" && test -f "$TEST_DIRECTORY/lib.sh"
then
	# A script outside t/ (e.g. one written by t0000 into its trash
	# directory) that sources "$TEST_DIRECTORY/lib.sh".
	TEST_DIRECTORY=$(cd "$TEST_DIRECTORY" && pwd -P) || exit 1
else
	echo "error: cannot find lib.sh next to '$0'; set TEST_DIRECTORY" >&2
	exit 1
fi
CAIRN_BUILD_DIR=$(cd "$TEST_DIRECTORY/.." && pwd -P) || exit 1
this_test=${0##*/}
this_test=${this_test%.sh}

# ---------------------------------------------------------------------------
# Options: -v/--verbose, -d/--debug, -i/--immediate, -x/--trace,
# --root=DIR, --no-chain-lint, -h/--help. CAIRN_TEST_OPTS is read first,
# so `make test CAIRN_TEST_OPTS=-v` or an exported value works too.

test_usage_ () {
	cat <<EOF
usage: sh t/$this_test.sh [options]

${test_description:-(no test_description)}

  -v, --verbose      show the output of every test (it goes to stderr)
  -d, --debug        keep the trash directory even when all tests pass
  -i, --immediate    stop at the first failing test (and keep the trash)
  -x, --trace        run test bodies under 'set -x'
  --root=<dir>       create trash.<script> under <dir> instead of t/
  --no-chain-lint    do not check test bodies for broken &&-chains
EOF
}

test_verbose=
test_debug=
test_immediate=
test_trace=
test_chain_lint=${CAIRN_TEST_CHAIN_LINT:-1}
test_output_dir_=${CAIRN_TEST_OUTPUT_DIRECTORY:-$TEST_DIRECTORY}

test_parse_option_ () {
	case $1 in
	-v|--verbose) test_verbose=t ;;
	-d|--debug) test_debug=t ;;
	-i|--immediate) test_immediate=t ;;
	-x|--trace) test_trace=t ;;
	--root=*) test_output_dir_=${1#--root=} ;;
	--no-chain-lint) test_chain_lint=0 ;;
	-h|--help) test_usage_; exit 0 ;;
	--*|-)
		echo "error: unknown test option '$1'" >&2
		test_usage_ >&2
		exit 1
		;;
	-??*)
		# Bundled short options: -vd, -vix, ...
		test_opt_rest_=${1#-}
		while test -n "$test_opt_rest_"
		do
			test_opt_rest_tail_=${test_opt_rest_#?}
			test_parse_option_ "-${test_opt_rest_%"$test_opt_rest_tail_"}"
			test_opt_rest_=$test_opt_rest_tail_
		done
		;;
	*)
		echo "error: unknown test option '$1'" >&2
		test_usage_ >&2
		exit 1
		;;
	esac
}

for test_arg_ in ${CAIRN_TEST_OPTS:-} "$@"
do
	test_parse_option_ "$test_arg_"
done

# ---------------------------------------------------------------------------
# A clean, predictable environment.

# Nothing from the developer's git or cairn setup may leak into a test.
# GIT_TRACE* and CAIRN_TEST_* are kept: they are how one debugs a test.
for test_var_ in $(env | sed -n -e 's/^\(GIT_[A-Za-z0-9_]*\)=.*/\1/p' \
				-e 's/^\(CAIRN_[A-Za-z0-9_]*\)=.*/\1/p')
do
	case $test_var_ in
	GIT_TRACE*|CAIRN_TEST_*) ;;
	*) unset "$test_var_" ;;
	esac
done
unset test_var_
unset XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME \
	XDG_RUNTIME_DIR SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS EMAIL \
	LANGUAGE CDPATH VISUAL

LC_ALL=C
LANG=C
TZ=UTC
EDITOR=:
PAGER=cat
TERM=dumb
export LC_ALL LANG TZ EDITOR PAGER TERM
umask 022

GIT_AUTHOR_NAME='Cairn Author'
GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='Cairn Committer'
GIT_COMMITTER_EMAIL='committer@example.com'
GIT_CONFIG_NOSYSTEM=1
GIT_TERMINAL_PROMPT=0
GIT_PAGER=cat
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME \
	GIT_COMMITTER_EMAIL GIT_CONFIG_NOSYSTEM GIT_TERMINAL_PROMPT GIT_PAGER

# Sanitized builds (make SANITIZE=address,undefined): every finding must
# kill the process with SIGABRT, so that test_must_fail can tell a crash
# from a clean failure. UBSan exits with status 1 unless abort_on_error is
# set, which test_must_fail would accept; hence abort_on_error there too.
: "${ASAN_OPTIONS=abort_on_error=1:detect_leaks=1}"
: "${UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

# The freshly built ./cairn comes first, then the test helpers.
PATH="$CAIRN_BUILD_DIR:$TEST_DIRECTORY/helper:$PATH"
export PATH CAIRN_BUILD_DIR TEST_DIRECTORY

# ---------------------------------------------------------------------------
# Output.

exec 5>&1 6>&2 8>&2

test_say_ () {
	printf '%s\n' "$*" >&5
}

# Print stdin as TAP diagnostics ("# " lines) on stderr.
test_diag_ () {
	sed -e 's/^/# /' >&6
}

BUG () {
	echo "error: bug in the test script: $*" >&2
	test_bug_=t
	exit 1
}

# ---------------------------------------------------------------------------
# The trash directory: t/trash.<script>, fresh for every run, HOME of the
# tests. Each test starts in it.

mkdir -p "$test_output_dir_" &&
test_output_dir_=$(cd "$test_output_dir_" && pwd -P) || {
	echo "error: cannot use '$test_output_dir_' for trash directories" >&2
	exit 1
}
TRASH_DIRECTORY="$test_output_dir_/trash.$this_test"
test_log_="$TRASH_DIRECTORY.out"
test_prereq_dir_="$TRASH_DIRECTORY.prereq"

test_remove_trash_ () {
	cd "$test_output_dir_" || return 1
	for test_rm_ in "$TRASH_DIRECTORY" "$test_prereq_dir_"
	do
		test -e "$test_rm_" || continue
		chmod -R u+rwx "$test_rm_" 2>/dev/null
		rm -rf "$test_rm_" || return 1
	done
	rm -f "$test_log_"
}

test_remove_trash_ &&
mkdir "$TRASH_DIRECTORY" &&
cd -P "$TRASH_DIRECTORY" || {
	echo "error: cannot create a fresh '$TRASH_DIRECTORY'" >&2
	exit 1
}
TRASH_DIRECTORY=$(pwd -P)
export TRASH_DIRECTORY

HOME=$TRASH_DIRECTORY
export HOME
# Stops git from finding the cairn checkout's own .git above the trash.
GIT_CEILING_DIRECTORIES=$test_output_dir_
export GIT_CEILING_DIRECTORIES

cat >"$HOME/.gitconfig" <<EOF || exit 1
[init]
	defaultBranch = main
[user]
	name = $GIT_COMMITTER_NAME
	email = $GIT_COMMITTER_EMAIL
EOF

# ---------------------------------------------------------------------------
# Bookkeeping, and what happens when the script exits without test_done.

test_count=0
test_success=0
test_failure=0
test_fixed=0
test_broken=0
test_skipped=0
test_skipped_prereqs_=
test_in_body_=
test_title_=
test_cleanup_=:
test_atexit_=:
test_done_called_=
test_bug_=

test_exit_trap_ () {
	test_exit_code_=$?
	test -n "$test_done_called_" && return 0
	trap - EXIT
	# dash undoes a body's redirections before running this trap, bash
	# does not: then fds 5 and 6 are closed and the report goes to the
	# test's log, and prove still sees the missing plan.
	if { : >&5; } 2>/dev/null
	then
		exec 1>&5 2>&6 8>&6
	else
		exec 5>&1 6>&2 8>&2
	fi
	if test -n "$test_in_body_"
	then
		test_in_body_=
		test_say_ "not ok $test_count - $(test_tap_escape_ "$test_title_")"
		test_failure=$((test_failure + 1))
		{
			test_print_failure_details_
			echo "the test exited the script (exit code $test_exit_code_):"
			echo "a syntax error, a call to 'exit', or a BUG() in a helper"
		} | test_diag_
	fi
	if test -z "$test_bug_"
	then
		echo "FATAL: unexpected exit with code $test_exit_code_" \
			"(every script must end with test_done)" | test_diag_
	fi
	(eval "$test_atexit_") </dev/null >&6 2>&6 5>&- 6>&-
	test_say_ "1..$test_count"
	echo "trash directory kept: $TRASH_DIRECTORY" | test_diag_
	test "$test_exit_code_" = 0 && test_exit_code_=1
	exit "$test_exit_code_"
}
trap 'test_exit_trap_' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Prerequisites.

test_satisfied_prereq_=' '
test_evaluated_lazy_=' '

# test_set_prereq NAME: NAME is available from now on.
test_set_prereq () {
	case $1 in
	''|*[!A-Za-z0-9_]*) BUG "bad prerequisite name '$1'" ;;
	esac
	test_satisfied_prereq_="$test_satisfied_prereq_$1 "
}

# test_lazy_prereq NAME 'script': NAME is available if the script succeeds.
# The script runs once, on first use, in a subshell in a scratch directory.
test_lazy_prereq () {
	case $1 in
	''|*[!A-Za-z0-9_]*) BUG "bad prerequisite name '$1'" ;;
	esac
	test $# = 2 || BUG "not 2 parameters to test_lazy_prereq"
	eval "test_lazy_prereq_script_$1=\$2"
}

test_eval_lazy_prereq_ () {
	case $test_evaluated_lazy_ in
	*" $1 "*) return 0 ;;
	esac
	test_evaluated_lazy_="$test_evaluated_lazy_$1 "
	eval "test_lazy_script_=\${test_lazy_prereq_script_$1-}"
	test -n "$test_lazy_script_" || return 0
	rm -rf "$test_prereq_dir_" && mkdir "$test_prereq_dir_" || return 1
	if test -n "$test_verbose"
	then
		(cd "$test_prereq_dir_" && eval "$test_lazy_script_") \
			</dev/null >&8 2>&8 5>&- 6>&-
	else
		(cd "$test_prereq_dir_" && eval "$test_lazy_script_") \
			</dev/null >/dev/null 2>&1 5>&- 6>&-
	fi
	test_lazy_status_=$?
	rm -rf "$test_prereq_dir_"
	test "$test_lazy_status_" = 0 && test_set_prereq "$1"
	return 0
}

# test_have_prereq A,B,!C: true if A and B are available and C is not.
# The missing ones are left in $test_missing_prereq_.
test_have_prereq () {
	test_missing_prereq_=
	test_prereq_save_ifs_=$IFS
	IFS=,
	set -- $1
	IFS=$test_prereq_save_ifs_
	for test_prereq_ in "$@"
	do
		case $test_prereq_ in
		!*) test_prereq_neg_=t; test_prereq_=${test_prereq_#!} ;;
		*) test_prereq_neg_= ;;
		esac
		test_eval_lazy_prereq_ "$test_prereq_"
		case $test_satisfied_prereq_ in
		*" $test_prereq_ "*) test_prereq_have_=t ;;
		*) test_prereq_have_= ;;
		esac
		if test "$test_prereq_have_" = "$test_prereq_neg_"
		then
			test_missing_prereq_="$test_missing_prereq_${test_missing_prereq_:+,}${test_prereq_neg_:+!}$test_prereq_"
		fi
	done
	test -z "$test_missing_prereq_"
}

test_lazy_prereq GIT 'git --version'
test_lazy_prereq PYTHON3 '
	python3 -c "import sys; sys.exit(sys.version_info < (3, 9))"
'
test_lazy_prereq ROOT 'test "$(id -u)" = 0'
test_lazy_prereq SYMLINKS 'ln -s target link && test -h link'

# ---------------------------------------------------------------------------
# Running tests.

# TAP gives '#' a meaning in a test line; titles must not start directives.
test_tap_escape_ () {
	case $1 in
	*'#'*) printf '%s' "$1" | sed -e 's/#/\\#/g' ;;
	*) printf '%s' "$1" ;;
	esac
}

# The failed test's commands and (unless -v showed it already) output. It
# goes to stderr, where prove shows it even without -v; the first line
# names the script and test, as prove -j mixes the stderr of scripts.
test_print_failure_details_ () {
	echo "failed: $this_test $test_count - $test_title_"
	printf '%s\n' "$test_body_" |
	sed -e '1{' -e '/^[[:space:]]*$/d' -e '}' \
	    -e '${' -e '/^[[:space:]]*$/d' -e '}' \
	    -e 's/^/	/'
	if test -z "$test_verbose" && test -s "$test_log_"
	then
		echo "output:"
		cat "$test_log_"
	fi
}

# test_when_finished 'commands': run the commands after the current test,
# whether it passed or failed; last registered runs first. A failing
# cleanup fails the test.
test_when_finished () {
	test -n "$test_in_body_" ||
		BUG "test_when_finished outside a test body"
	test $# = 1 || BUG "not 1 parameter to test_when_finished"
	test_cleanup_="{ $1
} || test_cleanup_status_=\$?; $test_cleanup_"
}

# test_atexit 'commands': run the commands when the script ends, however
# it ends (for daemons a test started). Last registered runs first.
test_atexit () {
	test $# = 1 || BUG "not 1 parameter to test_atexit"
	test_atexit_="{ $1
} || test_atexit_status_=\$?; $test_atexit_"
}

# Evaluate a body (or cleanup) in the current shell, in the trash
# directory, stdin from /dev/null, output to the log (or, with -v, to
# stderr so that it cannot be mistaken for TAP).
test_eval_ () {
	if test -n "$test_trace"
	then
		test_eval_script_="set -x
$1"
	else
		test_eval_script_=$1
	fi
	if test -n "$test_verbose"
	then
		eval "$test_eval_script_" </dev/null >&6 2>&6 8>&6 5>&- 6>&-
	else
		eval "$test_eval_script_" </dev/null >>"$test_log_" 2>&1 8>&2 5>&- 6>&-
	fi
	{ test_eval_status_=$?; set +x; } 2>/dev/null
	return "$test_eval_status_"
}

# Sets test_result_ to "ok", "fail" or "lint".
test_run_ () {
	test_cleanup_=:
	test_cleanup_status_=0
	cd "$TRASH_DIRECTORY" || BUG "cannot cd to '$TRASH_DIRECTORY'"
	: >"$test_log_"

	if test "$test_chain_lint" != 0
	then
		# Every command of a properly &&-chained body is skipped after a
		# failing first link; anything else (a missing &&, a syntax
		# error) gives another status.
		(eval "(exit 117) && $test_body_
") </dev/null >>"$test_log_" 2>&1 5>&- 6>&-
		test_lint_status_=$?
		if test "$test_lint_status_" != 117
		then
			echo "broken &&-chain or syntax error in this test" \
				"(chain-lint status $test_lint_status_, expected 117)" \
				>>"$test_log_"
			test_result_=lint
			return
		fi
		: >"$test_log_"
	fi

	if test -n "$test_verbose"
	then
		echo "expecting $test_mode_ of $this_test.$test_count '$test_title_':" >&6
		printf '%s\n' "$test_body_" >&6
	fi
	test_in_body_=t
	test_eval_ "$test_body_"
	test_body_status_=$?
	test_in_body_=
	test "$test_cleanup_" = : || test_eval_ "$test_cleanup_"
	# A `return` in a body skips test_eval_'s own `set +x`.
	test -z "$test_trace" || { set +x; } 2>/dev/null
	test_cleanup_=:
	if test "$test_body_status_" = 0 && test "$test_cleanup_status_" != 0
	then
		echo "test_when_finished cleanup failed with status $test_cleanup_status_" |
		if test -n "$test_verbose"; then cat >&6; else cat >>"$test_log_"; fi
		test_body_status_=$test_cleanup_status_
	fi
	if test "$test_body_status_" = 0
	then
		test_result_=ok
	else
		test_result_=fail
	fi
}

test_expect_ () {
	test_mode_=$1
	shift
	test -z "$test_in_body_" || BUG "test_expect_$test_mode_ inside a test body"
	case $# in
	2) test_prereq_list_= ;;
	3) test_prereq_list_=$1; shift ;;
	*) BUG "not 2 or 3 parameters to test_expect_$test_mode_" ;;
	esac
	test_title_=$1
	test_body_=$2
	test_count=$((test_count + 1))
	test_title_tap_=$(test_tap_escape_ "$test_title_")

	if test -n "$test_prereq_list_" && ! test_have_prereq "$test_prereq_list_"
	then
		test_skipped=$((test_skipped + 1))
		test_skipped_prereqs_="$test_skipped_prereqs_ $test_missing_prereq_"
		test_say_ "ok $test_count # skip $test_title_tap_ (missing $test_missing_prereq_)"
		return 0
	fi

	test_run_
	case $test_mode_,$test_result_ in
	success,ok)
		test_success=$((test_success + 1))
		test_say_ "ok $test_count - $test_title_tap_"
		;;
	failure,ok)
		test_fixed=$((test_fixed + 1))
		test_say_ "ok $test_count - $test_title_tap_ # TODO known breakage vanished"
		;;
	failure,fail)
		test_broken=$((test_broken + 1))
		test_say_ "not ok $test_count - $test_title_tap_ # TODO known breakage"
		;;
	*)
		test_failure=$((test_failure + 1))
		test_say_ "not ok $test_count - $test_title_tap_"
		test_print_failure_details_ | test_diag_
		if test -n "$test_immediate"
		then
			echo "stopping at the first failure (--immediate)" | test_diag_
			test_done
		fi
		;;
	esac
	cd "$TRASH_DIRECTORY" || BUG "cannot cd to '$TRASH_DIRECTORY'"
	return 0
}

# test_expect_success [PREREQ] 'title' 'commands'
test_expect_success () {
	test_expect_ success "$@"
}

# test_expect_failure [PREREQ] 'title' 'commands': a known breakage,
# reported as TODO; it does not fail the script.
test_expect_failure () {
	test_expect_ failure "$@"
}

# In CI (CI set to anything) or with CAIRN_TEST_NO_SKIP=1, skip_all fails.
test_no_skip_ () {
	test -n "${CI+set}" || test "${CAIRN_TEST_NO_SKIP:-}" = 1
}

# test_done: print the plan and exit. Set skip_all='reason' before calling
# it to skip the whole script ("1..0 # SKIP reason"; a failure in CI).
test_done () {
	test -z "$test_in_body_" || BUG "test_done inside a test body"
	test_done_called_=t
	trap - EXIT

	if test -n "${skip_all:-}"
	then
		if test_no_skip_
		then
			test_count=$((test_count + 1))
			test_failure=$((test_failure + 1))
			test_say_ "not ok $test_count - required prerequisite missing: $(test_tap_escape_ "$skip_all")"
			echo "CI is set or CAIRN_TEST_NO_SKIP=1: nothing may be skipped" | test_diag_
		elif test "$test_count" = 0
		then
			test_say_ "1..0 # SKIP $skip_all"
			(eval "$test_atexit_") </dev/null >&6 2>&6 5>&- 6>&-
			test -n "$test_debug" || test_remove_trash_
			exit 0
		else
			test_say_ "# skipping the remaining tests: $skip_all"
		fi
	elif test "$test_count" = 0
	then
		test_count=1
		test_failure=1
		test_say_ "not ok 1 - no tests were run (no test_expect_success before test_done)"
	fi

	test_atexit_status_=0
	(eval "$test_atexit_"; exit "$test_atexit_status_") </dev/null >&6 2>&6 5>&- 6>&-
	if test $? != 0
	then
		echo "test_atexit cleanup failed" | test_diag_
		test_failure=$((test_failure + 1))
	fi

	if test "$test_skipped" != 0
	then
		echo "$this_test: skipped $test_skipped test(s), missing:$test_skipped_prereqs_" |
		test_diag_
	fi
	# the figures the tests wrote (iterations, faults, failures), as
	# TAP diagnostics: prove shows them, and `make stress` picks them out
	if test -s "$TRASH_DIRECTORY/figures"
	then
		sed -e "s/^/# /" "$TRASH_DIRECTORY/figures" >&5
	fi
	test "$test_fixed" = 0 ||
		test_say_ "# $test_fixed known breakage(s) vanished; use test_expect_success for them"
	test "$test_broken" = 0 ||
		test_say_ "# still have $test_broken known breakage(s)"
	if test "$test_failure" = 0
	then
		test_say_ "# passed all $test_count test(s)"
	else
		test_say_ "# failed $test_failure among $test_count test(s)"
	fi
	test_say_ "1..$test_count"

	if test "$test_failure" = 0 && test -z "$test_debug"
	then
		test_remove_trash_ ||
			echo "warning: could not remove '$TRASH_DIRECTORY'" | test_diag_
		exit 0
	fi
	echo "trash directory kept: $TRASH_DIRECTORY" | test_diag_
	test "$test_failure" = 0
	exit
}

# ---------------------------------------------------------------------------
# Helpers for test bodies. Each one returns non-zero and says why (on fd 8,
# so that `helper ... 2>file` does not swallow the reason) when it fails.

# test_cmp expect actual: the files are equal; shows a unified diff if not.
test_cmp () {
	test $# = 2 || BUG "not 2 parameters to test_cmp"
	diff -u "$1" "$2" >&8
}

# The exit status of a command run by test_must_fail/test_might_fail:
# 0 success, 1 clean failure, 2 crash or command not found (reported).
test_classify_status_ () {
	if test "$1" = 0
	then
		return 0
	elif test "$1" -gt 129
	then
		echo "$2: command died of signal $(($1 - 128)) (exit code $1): $3" >&8
		return 2
	elif test "$1" = 126 || test "$1" = 127
	then
		echo "$2: command not found or not executable (exit code $1): $3" >&8
		return 2
	fi
	return 1
}

# test_must_fail cmd args...: cmd exits with a status from 1 to 129
# (128 is die(), 129 a usage error, as in git). Success, death by a signal
# (status 130 and up: a crash, a sanitizer abort; SIGHUP's 129 is taken by
# usage errors) and "command not found" (126, 127) fail the test.
test_must_fail () {
	test $# != 0 || BUG "test_must_fail without a command"
	"$@"
	test_must_fail_status_=$?
	test_classify_status_ "$test_must_fail_status_" test_must_fail "$*"
	case $? in
	0) echo "test_must_fail: command succeeded: $*" >&8; return 1 ;;
	1) return 0 ;;
	*) return 1 ;;
	esac
}

# test_might_fail cmd args...: like test_must_fail, but success is fine.
test_might_fail () {
	test $# != 0 || BUG "test_might_fail without a command"
	"$@"
	test_classify_status_ $? test_might_fail "$*"
	test $? != 2
}

# test_line_count OP N file: `test $(wc -l <file) OP N`, e.g. = 3, -gt 0.
test_line_count () {
	test $# = 3 || BUG "not 3 parameters to test_line_count"
	test -f "$3" || {
		echo "test_line_count: '$3' is not a file" >&8
		return 1
	}
	test_lines_=$(wc -l <"$3")
	test_lines_=$((test_lines_ + 0))
	if ! test "$test_lines_" "$1" "$2"
	then
		echo "test_line_count: '$3' has $test_lines_ lines, expected $1 $2:" >&8
		cat "$3" >&8
		return 1
	fi
}

test_path_is_file () {
	test $# = 1 || BUG "not 1 parameter to test_path_is_file"
	test -f "$1" && return 0
	echo "test_path_is_file: '$1' is not a file" >&8
	ls -ld "$1" >&8 2>&8
	return 1
}

test_path_is_dir () {
	test $# = 1 || BUG "not 1 parameter to test_path_is_dir"
	test -d "$1" && return 0
	echo "test_path_is_dir: '$1' is not a directory" >&8
	ls -ld "$1" >&8 2>&8
	return 1
}

# Not there at all, not even as a dangling symlink.
test_path_is_missing () {
	test $# = 1 || BUG "not 1 parameter to test_path_is_missing"
	test -e "$1" || test -h "$1" || return 0
	echo "test_path_is_missing: '$1' exists" >&8
	ls -ld "$1" >&8 2>&8
	return 1
}

test_file_not_empty () {
	test $# = 1 || BUG "not 1 parameter to test_file_not_empty"
	test -s "$1" && return 0
	echo "test_file_not_empty: '$1' is empty or missing" >&8
	return 1
}

test_must_be_empty () {
	test $# = 1 || BUG "not 1 parameter to test_must_be_empty"
	if ! test -f "$1"
	then
		echo "test_must_be_empty: '$1' is not a file" >&8
		return 1
	elif test -s "$1"
	then
		echo "test_must_be_empty: '$1' is not empty, it contains:" >&8
		cat "$1" >&8
		return 1
	fi
}

# test_grep [-v|!] [grep options] pattern file: some line of file matches
# (with -v or !: no line matches). Shows the file when that is not so.
test_grep () {
	test_grep_neg_=
	case ${1-} in
	-v|!) test_grep_neg_=t; shift ;;
	esac
	test $# -ge 2 || BUG "test_grep needs a pattern and a file"
	for test_grep_arg_ in "$@"
	do
		case $test_grep_arg_ in
		-v) BUG "test_grep: -v must be the first argument" ;;
		-e|--) break ;;
		-*) ;;
		*) break ;;
		esac
	done
	eval "test_grep_file_=\${$#}"
	if ! test -f "$test_grep_file_"
	then
		echo "test_grep: '$test_grep_file_' is not a file" >&8
		return 1
	fi
	if test -n "$test_grep_neg_"
	then
		grep "$@" >/dev/null || return 0
		echo "test_grep: unexpected match in '$test_grep_file_' for: grep $*" >&8
	else
		grep "$@" >/dev/null && return 0
		echo "test_grep: no match in '$test_grep_file_' for: grep $*" >&8
	fi
	echo "'$test_grep_file_' contains:" >&8
	cat "$test_grep_file_" >&8
	return 1
}

# write_script file [interpreter] <<\EOF: an executable script (default
# /bin/sh) whose body is read from stdin.
write_script () {
	test $# -ge 1 || BUG "write_script needs a file name"
	{
		echo "#!${2-/bin/sh}" &&
		cat
	} >"$1" &&
	chmod +x "$1"
}

# test_seq [first] last: the integers from first (default 1) to last.
test_seq () {
	case $# in
	1) test_seq_i_=1; test_seq_last_=$1 ;;
	2) test_seq_i_=$1; test_seq_last_=$2 ;;
	*) BUG "not 1 or 2 parameters to test_seq" ;;
	esac
	while test "$test_seq_i_" -le "$test_seq_last_"
	do
		echo "$test_seq_i_"
		test_seq_i_=$((test_seq_i_ + 1))
	done
}

# test_tick: advance a fake clock by 60 s (from 1700000000, 2023-11-14)
# and export it as GIT_COMMITTER_DATE and GIT_AUTHOR_DATE.
test_tick () {
	if test -z "${test_tick+set}"
	then
		test_tick=1700000000
	else
		test_tick=$((test_tick + 60))
	fi
	GIT_COMMITTER_DATE="$test_tick +0000"
	GIT_AUTHOR_DATE="$test_tick +0000"
	export GIT_COMMITTER_DATE GIT_AUTHOR_DATE
}
