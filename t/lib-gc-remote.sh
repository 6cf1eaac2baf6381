# lib-gc-remote.sh: the scenarios of `cairn gc -r` (sourced after lib.sh and
# lib-cairn.sh), run by t0111 on a directory remote and by t0112 and
# t0113 over a real sshd and a real S3 server. The script sets
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

# gcr_fresh_pull N BRANCH: a fresh clone of BRANCH pulls what bN has.
gcr_fresh_pull () {
	rm -rf fresh$1 &&
	git clone -q -b "$2" git$1.git fresh$1 &&
	(cd fresh$1 && cairn pull -q) &&
	diff -r b$1/data fresh$1/data
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
