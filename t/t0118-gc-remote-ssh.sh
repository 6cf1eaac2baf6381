#!/bin/sh

test_description='cairn gc -r over SSH against a real sshd on 127.0.0.1

The key scenarios of t0111 on an SFTP remote, whose times of upload come
from the SFTP mtime attribute: the one-chunk file of a branch known from
git only, a stale clone, a pack uploaded after the refs were read, the
two phases with a push taking a marked pack back, the refusal when the
git remote cannot be reached, and the audit entry on the remote.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"
. "$TEST_DIRECTORY/lib-gc-remote.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

start_sshd

gcr_remote_url () {
	echo "testhost:$SSH_ROOT/gc$1"
}
gcr_remote_setup () {
	:
}
# the server is on this machine: its files are read directly
gcr_remote_ls () {
	ls "$SSH_ROOT/gc$1/$2" 2>/dev/null
}

. "$TEST_DIRECTORY/lib-gc-remote-tests.sh"

test_done
