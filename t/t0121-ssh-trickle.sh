#!/bin/sh

test_description='an SSH server that trickles its answers is dropped in time

A real sshd whose SFTP server answers through t/helper/slow-sftp.py at a
rate the test sets. A read that moves less than remote.NAME.low-speed-
limit bytes a second for remote.NAME.timeout seconds, or takes longer
than remote.NAME.request-timeout in all, fails with an error naming the
setting, instead of running for as long as the server likes; at full
speed the same pull succeeds. Each command runs under timeout(1) so that
a missing bound fails the test rather than hanging it.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

RATE="$TRASH_DIRECTORY/sftp-rate"
echo 0 >"$RATE"
SSHD_EXTRA_CONFIG="ForceCommand python3 $TEST_DIRECTORY/helper/slow-sftp.py $RATE"
export SSHD_EXTRA_CONFIG
start_sshd

# slow RATE: the server answers at RATE bytes a second from now on (0: full)
slow () {
	echo "$1" >"$RATE"
}

test_expect_success 'setup: a 2 MB model pushed at full speed, a second clone' '
	git init -q a && cd a &&
	cairn init >/dev/null &&
	make_random model.bin 2000000 1 &&
	cairn add -q model.bin &&
	cairn remote add origin "testhost:$SSH_ROOT/proj" &&
	git add -A && git commit -qm v1 &&
	cairn push -q &&
	cd .. && git clone -q a b
'

test_expect_success 'a server below the low-speed limit is dropped after the timeout' '
	cd b &&
	cairn config remote.origin.timeout 2 &&
	cairn config remote.origin.low-speed-limit 200000 &&
	cairn config remote.origin.retries 0 &&
	slow 40000 &&
	expect_code 1 timeout 60 cairn pull -q -j 1 2>err &&
	slow 0 &&
	test_grep "less than 200000 bytes a second for 2 seconds (remote.origin.low-speed-limit); dropped" err &&
	test_path_is_missing model.bin
'

test_expect_success 'a transfer longer than request-timeout is dropped, however fast it moves' '
	cd b &&
	cairn config remote.origin.low-speed-limit 1000 &&
	cairn config remote.origin.request-timeout 2 &&
	slow 150000 &&
	expect_code 1 timeout 60 cairn pull -q -j 1 2>err &&
	slow 0 &&
	test_grep "not done after 2 seconds (remote.origin.request-timeout); dropped" err &&
	test_path_is_missing model.bin
'

test_expect_success 'at full speed the same pull succeeds' '
	cd b &&
	slow 0 &&
	timeout 60 cairn pull -q &&
	cmp model.bin ../a/model.bin &&
	cairn fsck -q
'

test_expect_success 'bad settings are refused with the range' '
	cd b &&
	cairn config remote.origin.timeout 0 &&
	test_must_fail cairn pull -q 2>err &&
	test_grep "config remote.origin.timeout = 0 is out of range (1..3600)" err
'

test_done
