# lib-gc-remote-tests.sh: the tests of t0111, t0118 and t0119, one remote
# each (sourced by them after they defined gcr_remote_url and the rest).

test_expect_success 'setup' '
	gcr_setup 1
'

test_expect_success 'a branch known from git only: its one-chunk file survives gc -r' '
	gcr_exp_small 1 &&
	(
		cd a1 &&
		git fetch -q --prune &&
		cairn gc -r origin --grace 1 &&
		sleep 2 &&
		cairn gc -r origin --grace 1 &&
		sleep 2 &&
		cairn gc -r origin --grace 1
	) &&
	gcr_fresh_pull 1 exp
'

test_expect_success 'a stale clone keeps what others pushed since its last fetch' '
	gcr_test_stale_clone 1
'

test_expect_success 'a pack uploaded after gc -r read the refs is kept, not even marked' '
	gcr_test_upload_after_snapshot 1
'

test_expect_success 'two phases: mark, take back by a push, delete what is still unreferenced' '
	gcr_test_two_phase 1
'

test_expect_success 'a git remote that cannot be reached: gc -r refuses, changes nothing' '
	gcr_test_unreachable 1
'

test_expect_success 'what gc -r deleted is in its audit entry, on the remote at once' '
	gcr_test_audit 1
'

