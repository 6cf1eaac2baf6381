#!/bin/sh

test_description='a full disk during add leaves the store consistent

The repository lives on a small tmpfs (mounting one needs root). Adding
more data than fits must fail with a clear error, write no pointer, and
leave a store from which everything added before is still restorable;
after space is freed the same add succeeds.'

. "$(dirname "$0")/lib.sh"

if ! test_have_prereq ROOT
then
	skip_all='mounting a small tmpfs needs root'
	test_done
fi

mnt="$TRASH_DIRECTORY/mnt"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=12m tmpfs "$mnt" 2>/dev/null
then
	skip_all='cannot mount a tmpfs here'
	test_done
fi
test_atexit 'umount "$mnt"'

test_expect_success 'set up a repository on a 12 MiB filesystem' '
	cd "$mnt" &&
	git init -q repo &&
	cd repo &&
	cairn init &&
	mkdir small big &&
	head -c 300000 /dev/urandom >small/a &&
	cp small/a ../small-a.copy &&
	cairn add small &&
	git add -A && git commit -qm small
'

test_expect_success 'adding more than fits fails cleanly' '
	cd "$mnt/repo" &&
	head -c 4000000 /dev/urandom >big/1 &&
	head -c 4000000 /dev/urandom >big/2 &&
	test_must_fail cairn add big 2>err &&
	test_grep "^error: .*[Nn]o space left on device" err &&
	test_path_is_missing big.cairn
'

test_expect_success 'what was stored before is intact' '
	cd "$mnt/repo" &&
	rm -rf small &&
	cairn checkout small &&
	cmp small/a ../small-a.copy &&
	cairn status small >out &&
	test_grep "matches" out
'

test_expect_success 'after freeing space the same add succeeds' '
	cd "$mnt/repo" &&
	rm big/2 &&
	cp big/1 "$TRASH_DIRECTORY/big-1.copy" &&
	cairn add big &&
	rm -rf big &&
	cairn checkout big &&
	cmp big/1 "$TRASH_DIRECTORY/big-1.copy"
'

test_expect_success 'no temporary files are left in the store' '
	cd "$mnt/repo" &&
	ls .cairn/store/tmp >tmpfiles &&
	test_must_be_empty tmpfiles
'

test_done
