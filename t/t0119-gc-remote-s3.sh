#!/bin/sh

test_description='cairn gc -r on S3 against a real radosgw on 127.0.0.1

The key scenarios of t0111 on an S3 remote, whose times of upload come
from LastModified in its listings: the one-chunk file of a branch known
from git only, a stale clone, a pack uploaded after the refs were read,
the two phases with a push taking a marked pack back, the refusal when
the git remote cannot be reached, and the audit entry on the remote.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
. "$TEST_DIRECTORY/lib-gc-remote.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

start_s3

gcr_remote_url () {
	echo "s3://$S3_BUCKET/gc$1"
}
gcr_remote_setup () {
	cairn config remote.origin.endpoint "$S3_ENDPOINT" &&
	cairn config remote.origin.region "$S3_REGION"
}
gcr_remote_ls () {
	s3_aws s3 ls "s3://$S3_BUCKET/gc$1/$2/" 2>/dev/null |
	awk "NF == 4 && \$4 != \"\" { print \$4 }"
}

. "$TEST_DIRECTORY/lib-gc-remote-tests.sh"

test_done
