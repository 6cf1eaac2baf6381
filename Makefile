# cairn: data and model versioning beside git.
#
#   make                 build ./cairn (installs missing Debian packages when root)
#   make test            build and run every test (TAP, via prove)
#   make test SANITIZE=address,undefined    the same under ASan+UBSan
#   make demo            build and run a short demo on generated data
#   make stress          the reliability suites at full counts (up to an hour)
#   make DEVELOPER=0     build without -Werror (other compilers)

CC ?= cc
PKGS = libzstd libxxhash lmdb libcrypto libssh2 libarchive libcurl
DEBS = libzstd-dev libxxhash-dev liblmdb-dev libssl-dev libssh2-1-dev \
       libarchive-dev libcurl4-openssl-dev pkg-config
# What the test suite needs beyond the build: git, prove, python3 (the
# dataset generator) with venv (t0123 installs the Python package into a
# virtualenv, and pytest, fsspec, pandas and pyarrow from PyPI, kept in
# ~/.cache/cairn-tests across runs), cmp/diff, openssh (server and keygen)
# for remotes, a one-node Ceph cluster with radosgw, awscli and curl for
# S3 remotes, and the archivers whose archives import and export are
# tested against.
TEST_DEBS = git perl python3 python3-venv diffutils openssh-server openssh-client procps bash util-linux \
            ceph-mon ceph-osd radosgw awscli curl uuid-runtime \
            tar libarchive-tools zip unzip p7zip-full cpio gzip bzip2 xz-utils zstd

DEVELOPER ?= 1
OPT ?= -O2
CFLAGS_BASE = $(OPT) -g -std=gnu11 -pthread -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes \
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. -include core/banned.h
ifeq ($(DEVELOPER),1)
CFLAGS_BASE += -Werror
endif
ifdef SANITIZE
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm
# The cairn program links only these; libssh2, libarchive and libcurl go
# into cairn-ext.so, loaded when a command needs them (core/ext.h).
MAIN_PKGS = libzstd libxxhash lmdb libcrypto
EXT_PKGS = libssh2 libarchive libcurl libcrypto
MAIN_LIBS = $(shell pkg-config --libs $(MAIN_PKGS) 2>/dev/null) -lpthread -lm
EXT_LIBS = $(shell pkg-config --libs $(EXT_PKGS) 2>/dev/null) -lpthread

# make install: PREFIX/bin/cairn and PREFIX/lib/cairn/cairn-ext.so
PREFIX ?= /usr/local
EXT_DIR = $(PREFIX)/lib/cairn

# Sources whose objects need the libraries of cairn-ext.so; built twice:
# plain into libcairn.a (the tests link them directly), -fPIC into the
# plugin.
EXT_SRCS = core/archive.c remote/s3.c remote/ssh.c
EXT_PIC = $(patsubst %.c,%.pic.o,$(EXT_SRCS) core/ext-abi.c)

CORE_OBJS = $(patsubst %.c,%.o,$(filter-out core/ext-abi.c,$(wildcard core/*.c)))
REMOTE_OBJS = $(patsubst %.c,%.o,$(wildcard remote/*.c))
MAIN_OBJS = $(filter-out $(patsubst %.c,%.o,$(EXT_SRCS)),$(CORE_OBJS) $(REMOTE_OBJS))
CMD_OBJS = $(patsubst %.c,%.o,$(filter-out cmd/help-text.c,$(wildcard cmd/*.c))) cmd/help-text.o
MAN_PAGES = $(sort $(wildcard Documentation/cairn-*.md))
UNIT_SRCS = $(wildcard t/unit/*.c)
UNIT_BINS = $(patsubst %.c,%,$(UNIT_SRCS))
FUZZ_NAMES = pointer tree manifest packidx config url audit auditseg s3list
FUZZ_REPLAY = $(patsubst %,t/fuzz/replay-%,$(FUZZ_NAMES))
HELPER_SRCS = $(wildcard t/helper/*.c)
HELPER_BINS = $(patsubst %.c,%,$(HELPER_SRCS))
# LD_PRELOAD shims for the reliability tests: plain C, never sanitized
# (they sit under the sanitizer's own interceptors).
SHIM_SRCS = $(wildcard t/shim/*.c)
SHIMS = $(patsubst %.c,%.so,$(SHIM_SRCS))

# Build flavour stamp: a change of flags (e.g. SANITIZE) rebuilds everything.
FLAVOUR := $(shell echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cksum | cut -d' ' -f1)
# What cairn and cairn-ext.so must agree on: the headers and the flags.
ABI := $(shell cat include/*.h core/*.h remote/*.h | cksum | cut -d' ' -f1)-$(FLAVOUR)

# deps-check may install packages, so the build runs in a fresh make that
# reads pkg-config again.
all: deps-check
	@$(MAKE) --no-print-directory cairn

# -rdynamic: cairn-ext.so calls back into the program (strbuf, odb, ...);
# every object is linked in, used by the program or not, for the same reason.
cairn: $(MAIN_OBJS) $(CMD_OBJS) cairn-ext.so
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(CMD_OBJS) $(MAIN_OBJS) $(MAIN_LIBS)

cairn-ext.so: $(EXT_PIC)
	$(CC) $(LDFLAGS) -shared -o $@ $(EXT_PIC) $(EXT_LIBS)

libcairn.a: $(CORE_OBJS) $(REMOTE_OBJS)
	rm -f $@ && ar rcs $@ $^

# libcairn.so.0: the public library (include/cairn.h) for other programs
# and the Python package. Every object, -fPIC, backends included (no
# plugin); only the names of include/cairn.map are exported.
LIB_SRCS = $(filter-out core/ext-abi.c,$(wildcard core/*.c)) $(wildcard remote/*.c)
LIB_PIC = $(patsubst %.c,%.pic.o,$(LIB_SRCS))
libcairn.so.0: $(LIB_PIC) include/cairn.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libcairn.so.0 -Wl,--version-script=include/cairn.map \
		-Wl,--no-undefined -o $@ $(LIB_PIC) $(LIBS)
libcairn.so: libcairn.so.0
	ln -sf libcairn.so.0 $@
# test programs take every object, so that the weak references to the
# backends and archives (core/ext.h) find them and no plugin is loaded
WHOLE_LIB = -Wl,--whole-archive libcairn.a -Wl,--no-whole-archive

%.o: %.c .flavour-$(FLAVOUR) $(wildcard include/*.h core/*.h remote/*.h cmd/*.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

%.pic.o: %.c .flavour-$(FLAVOUR) $(wildcard include/*.h core/*.h remote/*.h cmd/*.h)
	$(CC) $(ALL_CFLAGS) -fPIC -DCAIRN_ABI='"$(ABI)"' -c -o $@ $<

core/ext.o: core/ext.c .flavour-$(FLAVOUR) $(wildcard include/*.h core/*.h remote/*.h cmd/*.h)
	$(CC) $(ALL_CFLAGS) -DCAIRN_ABI='"$(ABI)"' -DCAIRN_EXT_DIR='"$(EXT_DIR)"' -c -o $@ $<

install: all
	@$(MAKE) --no-print-directory libcairn.so.0 libcairn.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(EXT_DIR) $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 cairn $(DESTDIR)$(PREFIX)/bin/cairn
	install -m 644 cairn-ext.so $(DESTDIR)$(EXT_DIR)/cairn-ext.so
	install -m 644 include/cairn.h $(DESTDIR)$(PREFIX)/include/cairn.h
	install -m 755 libcairn.so.0 $(DESTDIR)$(PREFIX)/lib/libcairn.so.0
	ln -sf libcairn.so.0 $(DESTDIR)$(PREFIX)/lib/libcairn.so
	install -m 644 libcairn.a $(DESTDIR)$(PREFIX)/lib/libcairn.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(PKG_LIBS) -lpthread -lm|' \
		-e 's|@PKGS@|$(PKGS)|' include/cairn.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/cairn.pc

.flavour-$(FLAVOUR):
	rm -f .flavour-* core/*.o remote/*.o cmd/*.o libcairn.a cairn cairn-ext.so $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY)
	touch $@

cmd/help-text.c: $(MAN_PAGES) Documentation/gen-help.sh
	sh Documentation/gen-help.sh $(MAN_PAGES) > $@+ && mv $@+ $@

t/unit/%: t/unit/%.c t/unit/tap.h libcairn.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(WHOLE_LIB) $(LIBS)

# each fuzz target linked with a plain driver that replays its corpus
t/fuzz/replay-%: t/fuzz/fuzz-%.c t/fuzz/replay.c libcairn.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ t/fuzz/fuzz-$*.c t/fuzz/replay.c $(WHOLE_LIB) $(LIBS)

t/shim/%.so: t/shim/%.c
	$(CC) -O2 -g -Wall -Wextra -D_GNU_SOURCE -shared -fPIC -o $@ $< -ldl -lpthread

t/helper/%: t/helper/%.c libcairn.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(WHOLE_LIB) $(LIBS)

# Missing packages: installed when root (Debian), otherwise named.
deps-check:
	@missing=""; for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing build dependencies:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null || exit 1; \
			echo "dependencies installed; run make again if the build fails to find them"; \
		else \
			echo "missing libraries:$$missing"; \
			echo "install them with: sudo apt-get install $(DEBS)"; exit 1; \
		fi; \
	fi

test-deps:
	@missing=""; for c in git prove python3 cmp sshd:/usr/sbin/sshd ssh-keygen ps \
		ceph-mon ceph-osd radosgw awscli:aws curl uuid-runtime:uuidgen \
		bsdtar zip unzip 7z cpio bzip2 xz zstd; do \
		b=$${c#*:}; command -v $$b >/dev/null 2>&1 || missing="$$missing $${c%%:*}"; done; \
	python3 -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing test dependencies:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS) >/dev/null || exit 1; \
		else \
			echo "missing test tools:$$missing"; \
			echo "install them with: sudo apt-get install $(TEST_DEBS)"; exit 1; \
		fi; \
	fi

build-tests: cairn libcairn.so $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY) $(SHIMS)

# libFuzzer (clang): make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS="tree url"]
# runs each target from its seed corpus; new inputs go to build/fuzz/NAME,
# crashes to build/fuzz/crash-NAME-*. Add keepers to t/fuzz/corpus/NAME.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	rm -rf build/fuzz/src && mkdir -p build/fuzz/src && cp -r Makefile core remote cmd include t build/fuzz/src/
	$(MAKE) --no-print-directory -C build/fuzz/src libcairn.a CC=clang DEVELOPER=1 \
		SANITIZE=address,undefined,fuzzer-no-link
	for t in $(FUZZ_TARGETS); do \
		clang -g -O1 -I build/fuzz/src -include core/banned.h -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
			-o build/fuzz/fuzz-$$t t/fuzz/fuzz-$$t.c build/fuzz/src/libcairn.a $(LIBS) || exit 1; \
		mkdir -p build/fuzz/$$t; \
		build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/crash-$$t- \
			-print_final_stats=1 build/fuzz/$$t t/fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1; \
		st=$$?; grep -E "^Done|number_of_executed_units|ERROR" build/fuzz/$$t.log; \
		[ $$st = 0 ] || { echo "fuzz-$$t found a crash: see build/fuzz/$$t.log"; exit 1; }; \
	done


# -j2: two test scripts at once; each script runs in its own trash dir.
# `make test` runs the suite, then the same suite under ASan+UBSan in a
# copy of the tree (build/sanitize), so CI always runs both. NO_SANITIZE=1
# skips the second pass; SANITIZE=... runs only a sanitizer build in place.
PROVE_OPTS ?= -j2
# make test installs every server the tests need, so a missing one is a
# failure, never a silent skip (CAIRN_TEST_NO_SKIP=0 to allow skips).
CAIRN_TEST_NO_SKIP ?= 1
export CAIRN_TEST_NO_SKIP
test: deps-check test-deps
	@$(MAKE) --no-print-directory build-tests
	prove $(PROVE_OPTS) $(UNIT_BINS) t/t[0-9]*.sh
ifndef SANITIZE
ifndef NO_SANITIZE
	@$(MAKE) --no-print-directory test-sanitize
endif
endif

test-sanitize:
	rm -rf build/sanitize && mkdir -p build/sanitize
	cp Makefile build/sanitize/ && for d in core remote cmd include t Documentation contrib; do \
		if [ -d $$d ]; then cp -r $$d build/sanitize/; fi; done
	rm -rf build/sanitize/t/trash.* build/sanitize/*/*.o build/sanitize/t/unit/*-test build/sanitize/t/fuzz/replay-* build/sanitize/t/shim/*.so \
		build/sanitize/contrib/python/build build/sanitize/contrib/python/*.egg-info build/sanitize/contrib/python/cairn/libcairn.so.0
	$(MAKE) --no-print-directory -C build/sanitize build-tests SANITIZE=address,undefined
	cd build/sanitize && prove $(PROVE_OPTS) $(UNIT_BINS) t/t[0-9]*.sh

# make stress: the reliability suites at their full counts (up to an hour
# on 2 cores, and some 40 minutes of team simulator sequences;
# Documentation/technical/reliability.md). Not part of make test.
STRESS_TESTS = t/t0008-concurrency.sh t/t0011-crash.sh t/t0022-remote-failures.sh \
	t/t0042-gc.sh t/t0091-power-loss.sh t/t0092-io-errors.sh t/t0093-bitrot.sh \
	t/t0096-concurrent-remotes.sh t/t0120-team-sim.sh
stress: deps-check test-deps
	@$(MAKE) --no-print-directory build-tests
	CAIRN_TEST_CRASH_ITER=50 CAIRN_TEST_CONC_RUNS=100 CAIRN_TEST_S3_CONC_RUNS=50 CAIRN_TEST_BITROT=1000 \
		CAIRN_TEST_SIM_RUNS=334 CAIRN_TEST_SIM_REMOTES=dir,ssh,s3 CAIRN_TEST_SIM_BASE=random \
		prove -v $(STRESS_TESTS) >t/stress.log 2>&1; st=$$?; \
		grep -E "^(not ok|# [a-z][a-z0-9 -]*: )|^Result" t/stress.log; \
		echo "full log: t/stress.log"; exit $$st

demo: all
	@command -v python3 >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq python3 >/dev/null; } || \
		{ echo "the demo needs python3: sudo apt-get install python3"; exit 1; }
	./contrib/demo.sh

clean:
	rm -f cairn cairn-ext.so libcairn.a libcairn.so libcairn.so.0 core/*.o remote/*.o cmd/*.o cmd/help-text.c .flavour-* $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY) $(SHIMS)
	rm -rf t/trash.* build contrib/python/build contrib/python/*.egg-info contrib/python/cairn/libcairn.so.0

.PHONY: all deps-check test-deps build-tests test test-sanitize demo clean fuzz stress install

# make bench: cairn against DVC, restic, borg and git-lfs (t/perf/README)
include t/perf/Makefile.inc
