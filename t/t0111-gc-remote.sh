#!/bin/sh

test_description='cairn gc -r on a directory remote

A branch known from git but never fetched, whose new file is one chunk,
keeps its data; gc -r decides from the git remote'"'"'s own refs, never
deletes a pack uploaded after its snapshot of them, deletes in two
phases (a push that needs a marked pack takes it back), refuses when the
git remote cannot be reached, and records what it deleted in an audit
entry that is on the remote when it ends. t0118 and t0119 run the same
scenarios (lib-gc-remote-tests.sh) over SSH and on S3.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-gc-remote.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

gcr_remote_url () {
	echo "$TRASH_DIRECTORY/remote$1"
}
gcr_remote_setup () {
	:
}
gcr_remote_ls () {
	ls "$TRASH_DIRECTORY/remote$1/$2" 2>/dev/null
}

. "$TEST_DIRECTORY/lib-gc-remote-tests.sh"

test_expect_success 'a path without cairn data: refused, nothing written there' '
	mkdir empty-remote &&
	(
		cd a1 &&
		cairn remote add elsewhere "$TRASH_DIRECTORY/empty-remote" &&
		test_must_fail cairn gc -r elsewhere --grace 0 2>err &&
		test_grep "holds no cairn data" err &&
		cairn remote remove elsewhere
	) &&
	test -z "$(ls -A empty-remote)"
'

test_done
