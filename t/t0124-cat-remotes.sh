#!/bin/sh

test_description='lazy reads over SSH and S3: cat and the library in an empty clone

A real sshd and a real S3 server (radosgw) on 127.0.0.1. A repository
with two versions pushes all of its history to each; a fresh clone,
whose store is empty, reads old and new files with cairn cat and at
random offsets from four threads through the C library, byte for byte;
what it read stays in its store; fsck calls the rest incomplete.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

start_sshd
start_s3

test_expect_success 'setup: two versions, a directory and a file' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K >/dev/null &&
	mkdir -p data/sub && make_random data/sub/big 900000 1 && echo one >data/a.txt &&
	make_random model.bin 3000000 2 &&
	cairn add -q data model.bin && git add -A && git commit -qm v1 && git tag v1 &&
	mkdir ../v1 && cp data/sub/big data/a.txt model.bin ../v1/ &&
	make_random data/sub/big 900000 3 && make_random model.bin 3000000 4 &&
	cairn add -q data model.bin && git add -A && git commit -qm v2
'

for kind in ssh s3
do
	test_expect_success "$kind: every version pushed, a fresh clone reads lazily" '
		(
			cd repo &&
			if test $kind = ssh
			then
				cairn remote add -d $kind "testhost:$SSH_ROOT/cat"
			else
				cairn remote add -d $kind "s3://$S3_BUCKET/cat" &&
				cairn config remote.$kind.endpoint "$S3_ENDPOINT" &&
				cairn config remote.$kind.region "$S3_REGION"
			fi &&
			cairn push -q -r $kind --all-commits &&
			git add .cairn/config && git commit -qm "remote $kind"
		) &&
		git clone -q repo lazy-$kind && cd lazy-$kind &&
		cairn cat --rev v1 model.bin >out && cmp out ../v1/model.bin &&
		cairn cat --rev v1 data/sub/big >out && cmp out ../v1/big &&
		cairn cat data/a.txt >out && echo one >expect && test_cmp expect out &&
		"$CAIRN_BUILD_DIR/t/helper/lib-read" . - model.bin ../repo/model.bin 4 >out &&
		test_grep "^ok 1201 reads" out &&
		cairn fsck >fsck.out && test_grep "no problems" fsck.out &&
		cairn remote remove $kind && { cairn config --unset core.remote 2>/dev/null || :; } &&
		cairn cat --rev v1 model.bin >out && cmp out ../v1/model.bin
	'
done

test_done
