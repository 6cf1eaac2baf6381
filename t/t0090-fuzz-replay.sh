#!/bin/sh

test_description='the saved fuzz corpus of every parser replays cleanly

Each libFuzzer target (t/fuzz/fuzz-*.c) is also linked with a plain
driver; this runs every saved input through it, so a regression on an
input the fuzzer once found fails ordinary make test (and the sanitizer
pass catches memory errors on them).'

. "$(dirname "$0")/lib.sh"

for name in pointer tree manifest packidx config url audit auditseg s3list
do
	test_expect_success "replay the $name corpus" '
		bin="$CAIRN_BUILD_DIR/t/fuzz/replay-'$name'" &&
		test -x "$bin" &&
		ls "$TEST_DIRECTORY/fuzz/corpus/'$name'"/* >inputs &&
		test_file_not_empty inputs &&
		"$bin" $(cat inputs) >out &&
		! grep "^not ok" out &&
		test "$(grep -c "^ok" out)" = "$(wc -l <inputs)"
	'
done

test_done
