#!/bin/sh

test_description='cairn-ext.so: the S3 and SSH backends and archives, loaded on use

The cairn program does not link libcurl, libssh2 or libarchive; what
needs them is in cairn-ext.so, loaded beside the program (or from the
install directory) the first time a command needs it. Without it, local
commands and directory remotes work, and the rest say what is missing.
A plugin from another build is refused.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

# These tests assume no cairn-ext.so in the install directory (a clean
# machine, as CI is): a program alone finds none.

test_expect_success 'the program does not link the libraries of the plugin' '
	ldd "$CAIRN_BUILD_DIR/cairn" >libs &&
	! grep -E "libcurl|libssh2|libarchive" libs &&
	ldd "$CAIRN_BUILD_DIR/cairn-ext.so" >ext-libs &&
	grep libcurl ext-libs && grep libssh2 ext-libs && grep libarchive ext-libs
'

test_expect_success 'setup: a program without its plugin; a repository' '
	mkdir lone && cp "$CAIRN_BUILD_DIR/cairn" lone/ &&
	git init -q repo && cd repo &&
	../lone/cairn init && mkdir d && echo hello >d/a &&
	../lone/cairn add -q d && git add -A && git commit -qm v1
'

test_expect_success 'without the plugin: local commands and directory remotes work' '
	cd repo &&
	../lone/cairn status >out && test_grep "matches its pointer" out &&
	../lone/cairn remote add origin "$TRASH_DIRECTORY/dir-remote" &&
	../lone/cairn push -q &&
	rm -rf d && ../lone/cairn pull -q && test "$(cat d/a)" = hello &&
	../lone/cairn fsck -q
'

test_expect_success 'without the plugin: ssh and S3 remotes say what is missing' '
	cd repo &&
	../lone/cairn remote add sshr ssh://127.0.0.1:1/x &&
	../lone/cairn remote add s3r s3://bucket/x &&
	expect_code 1 ../lone/cairn push -q -r sshr 2>err &&
	test_grep "^error: remote .sshr.: ssh remotes need cairn-ext.so, which cannot be loaded" err &&
	test_grep "lone/cairn-ext.so: No such file or directory" err &&
	test_grep "reinstall cairn" err &&
	expect_code 1 ../lone/cairn fetch -q -r s3r 2>err &&
	test_grep "S3 remotes need cairn-ext.so" err
'

test_expect_success 'without the plugin: import and export say what is missing' '
	cd repo &&
	expect_code 1 ../lone/cairn export -o out.tar d 2>err &&
	test_grep "archives need cairn-ext.so" err &&
	test_path_is_missing out.tar &&
	tar -cf ../in.tar -C .. lone &&
	expect_code 1 ../lone/cairn import ../in.tar e 2>err &&
	test_grep "archives need cairn-ext.so" err &&
	test_path_is_missing e && test_path_is_missing e.cairn
'

test_expect_success 'a plugin from another build is refused' '
	printf "const char cairn_ext_abi[] = \"other\";\n" >fake.c &&
	cc -shared -fPIC -o lone/cairn-ext.so fake.c &&
	cd repo &&
	expect_code 1 ../lone/cairn export -o out.tar d 2>err &&
	test_grep "cairn-ext.so: built for another cairn (other, this one is " err &&
	test_path_is_missing out.tar
'

test_expect_success 'a plugin that cannot be loaded is named, with the loader'"'"'s reason' '
	echo "not an ELF file" >lone/cairn-ext.so &&
	cd repo &&
	expect_code 1 ../lone/cairn export -o out.tar d 2>err &&
	test_grep "^error: archives need cairn-ext.so, which cannot be loaded (.*lone/cairn-ext.so: .*)" err &&
	test_path_is_missing out.tar
'

test_expect_success 'a plugin of this build that lacks a symbol is named' '
	cc -shared -fPIC -o lone/cairn-ext.so fake.c &&
	(cd repo && expect_code 1 ../lone/cairn export -o out.tar d 2>err) &&
	abi=$(sed -n "s/.*this one is \([^)]*\)).*/\1/p" repo/err) &&
	test -n "$abi" &&
	printf "const char cairn_ext_abi[] = \"%s\";\n" "$abi" >fake2.c &&
	cc -shared -fPIC -o lone/cairn-ext.so fake2.c &&
	cd repo &&
	expect_code 1 ../lone/cairn export -o out.tar d 2>err &&
	test_grep "^error: archives need .archive_export. from .*lone/cairn-ext.so, which lacks it; reinstall cairn" err &&
	test_path_is_missing out.tar
'

test_expect_success 'with its own plugin beside it, the copy does everything' '
	cp "$CAIRN_BUILD_DIR/cairn-ext.so" lone/ &&
	cd repo &&
	../lone/cairn export -o out.tar d &&
	tar -tf out.tar >list && test_grep "a$" list
'

test_done
