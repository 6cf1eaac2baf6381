# lib-gc-remote.sh: the scenarios of `cairn gc -r` (sourced after lib.sh and
# lib-cairn.sh), run by t0111 on a directory remote and by t0118 and
# t0119 over a real sshd and a real S3 server. The script sets
# gcr_remote_url N (echoes the URL of a fresh cairn remote number N) and
# gcr_remote_setup (run in a repository after `cairn remote add -d
# origin`, for settings such as an S3 endpoint); gcr_remote_ls N lists
# the names of files under DIR of remote N (gcr_remote_ls N packs).

# gcr_setup N: a bare git origin gitN.git and clones aN (which pushed
# main with data/a.csv) and bN (a clone of it, data pulled).
gcr_setup () {
	git init -q --bare git$1.git &&
	git clone -q git$1.git a$1 &&
	(
		cd a$1 &&
		cairn init --chunk-size 4K:16K:64K &&
		mkdir data && printf "id,v\n0,0\n" >data/a.csv &&
		make_random data/big.bin 100000 $1 &&
		cairn add -q data &&
		cairn remote add -d origin "$(gcr_remote_url $1)" &&
		gcr_remote_setup &&
		git add -A && git commit -qm main &&
		git push -q origin main &&
		cairn push -q
	) &&
	git clone -q git$1.git b$1 &&
	(cd b$1 && cairn pull -q)
}

# gcr_fresh_pull N BRANCH: a fresh clone of BRANCH pulls what bN has
# on BRANCH (bN is back on main after).
gcr_fresh_pull () {
	rm -rf fresh$1 &&
	git clone -q -b "$2" git$1.git fresh$1 &&
	(cd fresh$1 && cairn pull -q) &&
	(cd b$1 && git checkout -q "$2" && cairn checkout -q -f) &&
	diff -r b$1/data fresh$1/data &&
	(cd b$1 && git checkout -q main && cairn checkout -q -f)
}

# gcr_exp_small N: in bN, branch exp adds one small CSV (a file of one
# chunk, no manifest) to data, committed and pushed (git, then cairn).
gcr_exp_small () {
	(
		cd b$1 &&
		git checkout -q -b exp &&
		printf "id,v\n1,%s\n" "$1" >data/small.csv &&
		cairn add -q data &&
		git add -A && git commit -qm "exp: small csv" &&
		git push -q origin exp &&
		cairn push -q
	)
}

# gcr_gc N ARGS...: `cairn gc -r origin` in aN, output in aN/gc.out.
gcr_gc () {
	gcr_n_=$1
	shift
	(cd a$gcr_n_ && cairn gc -r origin "$@" >gc.out 2>gc.err)
	gcr_rc_=$?
	cat a$gcr_n_/gc.out a$gcr_n_/gc.err >&2
	return $gcr_rc_
}

# gcr_branch_data N BRANCH SEED: in bN, BRANCH (from main) with its own
# random file data/SEED.bin, committed and pushed, git and cairn.
gcr_branch_data () {
	(
		cd b$1 &&
		git checkout -q main &&
		git checkout -q -b "$2" &&
		make_random data/$3.bin 50000 $3 &&
		cairn add -q data &&
		git add -A && git commit -qm "$2" &&
		git push -q origin "$2" &&
		cairn push -q &&
		git checkout -q main &&
		cairn checkout -q -f
	)
}

# gcr_marks N: the number of marks on remote N.
gcr_marks () {
	gcr_remote_ls $1 gc | grep -c "\.mark$"
}

gcr_test_stale_clone () {
	# aN last fetched before bN pushed branch late (git and data)
	(cd a$1 && git fetch -q --prune) &&
	gcr_branch_data $1 late 301 &&
	sleep 2 &&
	gcr_gc $1 --grace 1 &&
	sleep 2 &&
	gcr_gc $1 --grace 1 &&
	gcr_fresh_pull $1 late &&
	gcr_fresh_pull $1 main &&
	grep "refs of git remote .origin.): .* 0 deleted" a$1/gc.out &&
	test "$(gcr_marks $1)" = 0
}

gcr_test_two_phase () {
	# two branches pushed, then deleted on the git remote
	gcr_branch_data $1 gone1 401 &&
	gcr_branch_data $1 gone2 402 &&
	gcr_remote_ls $1 packs | sort >packs$1.before &&
	(cd b$1 && git push -q origin --delete gone1 gone2) &&
	sleep 2 &&
	# first run: marks only
	gcr_gc $1 --grace 3 &&
	grep " 0 deleted" a$1/gc.out &&
	test "$(gcr_marks $1)" -ge 2 &&
	gcr_remote_ls $1 packs | sort >packs$1.after &&
	test_cmp packs$1.before packs$1.after &&
	gcr_remote_ls $1 gc | sort >marks$1.first &&
	# a push of gone1 again takes its packs back, before git knows it
	(
		cd b$1 && git checkout -q gone1 && cairn checkout -q -f &&
		cairn push >push.out && cat push.out &&
		grep "took back [1-9][0-9]* packs" push.out
	) &&
	gcr_remote_ls $1 gc | sort >marks$1.taken &&
	! test_cmp marks$1.first marks$1.taken >/dev/null &&
	sleep 4 &&
	# second run, past the grace: only gone2 goes
	gcr_gc $1 --grace 3 &&
	grep " [1-9][0-9]* deleted" a$1/gc.out &&
	gcr_remote_ls $1 packs | sort >packs$1.final &&
	! test_cmp packs$1.before packs$1.final >/dev/null &&
	(cd b$1 && git push -q origin gone1) &&
	gcr_fresh_pull $1 gone1 &&
	(cd b$1 && git checkout -q main && cairn checkout -q -f && git push -q origin gone2) &&
	test_must_fail gcr_fresh_pull $1 gone2 &&
	(cd b$1 && git push -q origin --delete gone2) &&
	# gone1 is referenced again: the next run removes its new mark
	gcr_gc $1 --grace 3 &&
	grep " 0 deleted" a$1/gc.out &&
	gcr_fresh_pull $1 gone1 &&
	gcr_fresh_pull $1 main
}

gcr_test_unreachable () {
	gcr_remote_ls $1 packs | sort >packs$1.before &&
	gcr_remote_ls $1 gc | sort >marks$1.before &&
	test_must_fail gcr_gc $1 --grace 0 --git-remote "$TRASH_DIRECTORY/no-such-git" &&
	grep "cannot read the refs of git remote" a$1/gc.err &&
	(cd a$1 && git remote set-url origin "$TRASH_DIRECTORY/no-such-git") &&
	test_must_fail gcr_gc $1 --grace 0 &&
	grep "cannot read the refs of git remote .origin." a$1/gc.err &&
	(cd a$1 && git remote set-url origin ../git$1.git) &&
	gcr_remote_ls $1 packs | sort >packs$1.after &&
	gcr_remote_ls $1 gc | sort >marks$1.after &&
	test_cmp packs$1.before packs$1.after &&
	test_cmp marks$1.before marks$1.after &&
	test -z "$(cd a$1 && git for-each-ref refs/cairn/)"
}

gcr_test_audit () {
	gcr_branch_data $1 audited 501 &&
	(cd b$1 && git push -q origin --delete audited) &&
	sleep 2 &&
	gcr_gc $1 --grace 0 &&
	sleep 1 &&
	gcr_gc $1 --grace 0 --json &&
	deleted=$(json_get a$1/gc.out packs_deleted) &&
	freed=$(json_get a$1/gc.out bytes_freed) &&
	test "$deleted" -ge 1 && test "$freed" -gt 0 &&
	# another clone learns the entry from the remote alone
	rm -rf auditor$1 && git clone -q git$1.git auditor$1 &&
	(
		cd auditor$1 &&
		cairn fetch -q &&
		cairn audit --json --op gc >audit.json &&
		python3 -c "
import json, sys
rows = json.load(open(\"audit.json\"))
e = max(rows, key=lambda r: r[\"seq\"])
assert e[\"op\"] == \"gc\" and \"--json\" in e[\"args\"], e
assert e[\"deleted\"] == $freed and e[\"outcome\"] == \"ok\", e
packs = [p for p in e[\"paths\"] if p[\"path\"].startswith(\"packs/\") and p[\"new\"] == \"\"]
assert len(packs) == $deleted, e
"
	)
}

gcr_test_upload_after_snapshot () {
	# while aN's gc -r reads the git remote's refs, bN pushes new data
	# (its commit is not on the git remote yet)
	write_script a$1/.git/hooks/reference-transaction <<-EOF &&
	test "\$1" = committed || exit 0
	grep -q " refs/cairn/gc/" || exit 0
	test -f "$TRASH_DIRECTORY/hooked$1" && exit 0
	: >"$TRASH_DIRECTORY/hooked$1"
	unset \$(git rev-parse --local-env-vars)
	cd "$TRASH_DIRECTORY/b$1" &&
	git checkout -q -b during main &&
	head -c 50000 /dev/urandom >data/601.bin &&
	cairn add -q data && git add -A && git commit -qm during &&
	cairn push -q >&2
	EOF
	gcr_remote_ls $1 gc | sort >marks$1.before &&
	gcr_gc $1 --grace 0 --json &&
	test -f hooked$1 &&
	test "$(json_get a$1/gc.out packs_young)" -ge 1 &&
	gcr_remote_ls $1 gc | sort >marks$1.after &&
	test_cmp marks$1.before marks$1.after &&
	rm a$1/.git/hooks/reference-transaction &&
	(cd b$1 && git push -q origin during && git checkout -q main && cairn checkout -q -f) &&
	gcr_fresh_pull $1 during
}
