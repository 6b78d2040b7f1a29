# hwbp - hardware breakpoints and watchpoints for Linux
#
#   make                 build/hwbp, build/libhwbp.so, build/libhwbp.a
#   make check           install missing build dependencies, build, run every test
#   make demo            install missing build dependencies, build, run the demo
#   make install         PREFIX=/usr/local DESTDIR=
#   make check-valgrind  only the unit and hardware tests under valgrind
#   make check-arm64     only the arm64 lane (QEMU)
#   make check-x86       only the x86-64 lane (QEMU TCG: the tests that need debug exceptions)
#   make check-cross     only the aarch64 and loongarch64 cross builds
#   make bench           the benchmarks in bench/ (bench-progs: only build them)
#   make clean
#
# Variables: V=1 shows commands; SAN=1 builds with ASan+UBSan; WERROR=0
# drops -Werror; O=DIR builds into DIR (default build); CROSS_COMPILE=
# prefixes the tools; WITH_SYM=0 builds without elfutils and Capstone;
# STATIC=1 links programs statically.

# The version has one source: HWBP_VERSION_MAJOR, _MINOR and _PATCH in
# include/hwbp/hwbp.h, which hwbp_version() also gives. libhwbp.pc, the
# installed file names and the soname come from it here, and tools/version-check
# (run by "make tests") holds lib/libhwbp.map's version nodes to it.
version_part = $(shell sed -n 's/^.define HWBP_VERSION_$(1)[[:space:]]\{1,\}\([0-9]\{1,\}\)[[:space:]]*$$/\1/p' include/hwbp/hwbp.h)
VERSION_MAJOR := $(call version_part,MAJOR)
VERSION := $(VERSION_MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
ifneq ($(words $(subst ., ,$(VERSION))),3)
$(error include/hwbp/hwbp.h: no HWBP_VERSION_MAJOR, _MINOR or _PATCH)
endif
O ?= $(if $(filter 1,$(SAN)),build-san,build)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CROSS_COMPILE ?=
CC := $(if $(filter default,$(origin CC)),$(CROSS_COMPILE)gcc,$(CC))
AR := $(if $(filter default,$(origin AR)),$(CROSS_COMPILE)ar,$(AR))
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2);
endif

WERROR ?= 1
WITH_SYM ?= $(if $(CROSS_COMPILE),0,1)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -D_GNU_SOURCE -Iinclude
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
LIB_CFLAGS := $(BASE_CFLAGS) -Ilib -fPIC -fvisibility=hidden $(SAN_FLAGS) $(CFLAGS)
PROG_CFLAGS := $(BASE_CFLAGS) -Ilib $(SAN_FLAGS) $(CFLAGS)
# The command sees the public header and its own: cli/sym/ holds the
# symbol code (elfutils, Capstone), which is the command's, not libhwbp's.
CLI_CFLAGS := $(BASE_CFLAGS) -Icli $(SAN_FLAGS) $(CFLAGS)
STATIC_FLAG := $(if $(filter 1,$(STATIC)),-static)

ifeq ($(WITH_SYM),1)
SYM_CFLAGS := $(shell $(PKG_CONFIG) --cflags libdw libelf capstone 2>/dev/null)
SYM_LIBS := $(shell $(PKG_CONFIG) --libs libdw libelf capstone 2>/dev/null)
CLI_CFLAGS += $(SYM_CFLAGS)
endif
LIBS := -lpthread $(LDLIBS)

# --- sources -----------------------------------------------------------------
LIB_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/%.o)
SYM_SRCS_ALL := $(sort $(wildcard cli/sym/*.c))
ifeq ($(WITH_SYM),1)
SYM_SRCS := $(filter-out cli/sym/nosym.c,$(SYM_SRCS_ALL))
else
SYM_SRCS := cli/sym/nosym.c
endif
SYM_OBJS := $(SYM_SRCS:%.c=$(O)/%.o)
HDRS := $(wildcard include/hwbp/*.h lib/*.h lib/*/*.h cli/*.h cli/sym/*.h)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
HW_SRCS := $(sort $(wildcard tests/hw/*.c))
HW_BINS := $(HW_SRCS:tests/hw/%.c=$(O)/tests/hw/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(O)/tests/tools/%)
TARGET_SRCS := $(sort $(filter-out tests/targets/lib%.c,$(wildcard tests/targets/*.c)))
TARGET_NAMES := $(TARGET_SRCS:tests/targets/%.c=%)
TARGET_BINS := $(foreach t,$(TARGET_NAMES),$(O)/tests/targets/$(t)-O0 $(O)/tests/targets/$(t)-O2 $(O)/tests/targets/$(t)-O0-nopie $(O)/tests/targets/$(t)-O2-nopie)
TARGET_LIBS := $(patsubst tests/targets/%.c,$(O)/tests/targets/%.so,$(wildcard tests/targets/lib*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(O)/bench/%)

# 0.x breaks the ABI where it must, so its soname carries the minor too
# (libhwbp.so.0.3); from 1.0 on only the major.
SONAME := libhwbp.so.$(VERSION_MAJOR)$(if $(filter 0,$(VERSION_MAJOR)),.$(call version_part,MINOR))

.PHONY: all lib cli tests hw-tests check check-unit check-hw check-cli check-valgrind \
	check-cross check-arm64 check-x86 check-loongarch demo deps install uninstall clean bench bench-progs \
	lint version-check
.SUFFIXES:
.DELETE_ON_ERROR:

all: $(O)/hwbp $(O)/libhwbp.so $(O)/libhwbp.a $(O)/libhwbp.pc

$(O)/lib/%.o: lib/%.c $(HDRS) Makefile
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(O)/cli/%.o: cli/%.c $(HDRS) Makefile
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CLI_CFLAGS) -c -o $@ $<

# The command's symbol code, as an archive the unit tests link too.
$(O)/cli-sym.a: $(SYM_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/libhwbp.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/libhwbp.so: $(LIB_OBJS) lib/libhwbp.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libhwbp.map \
		$(SAN_FLAGS) $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIBS)
	$(Q)ln -sf libhwbp.so $(O)/$(SONAME)

$(O)/hwbp: $(CLI_OBJS) $(O)/cli-sym.a $(O)/libhwbp.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(SAN_FLAGS) $(STATIC_FLAG) $(LDFLAGS) -o $@ $(CLI_OBJS) $(O)/cli-sym.a \
		$(O)/libhwbp.a $(SYM_LIBS) $(LIBS)

$(O)/libhwbp.pc: libhwbp.pc.in Makefile include/hwbp/hwbp.h
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@PRIVLIBS@|-lpthread|g' $< > $@

# --- tests -------------------------------------------------------------------
$(O)/tests/unit/%: tests/unit/%.c $(O)/libhwbp.a $(HDRS)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) -DHWBP_MAKE_VERSION='"$(VERSION)"' -o $@ $< \
		$(O)/libhwbp.a -lcmocka $(LIBS)

# test_spec proves the command's SPEC parser (cli/spec.c).
$(O)/tests/unit/test_spec: tests/unit/test_spec.c $(O)/cli/spec.o $(HDRS)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CLI_CFLAGS) -o $@ $< $(O)/cli/spec.o -lcmocka

# test_sym proves the command's symbol code: cli/ headers, cli-sym.a and
# the SPEC parser it takes its locations from.
$(O)/tests/unit/test_sym: tests/unit/test_sym.c $(O)/cli-sym.a $(O)/cli/spec.o $(O)/libhwbp.a $(HDRS)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CLI_CFLAGS) -o $@ $< $(O)/cli/spec.o $(O)/cli-sym.a $(O)/libhwbp.a -lcmocka \
		$(SYM_LIBS) $(LIBS)

$(O)/tests/hw/%: tests/hw/%.c $(O)/libhwbp.a $(HDRS) $(wildcard tests/hw/*.h) tests/lostdb.h
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $(STATIC_FLAG) -o $@ $< $(O)/libhwbp.a $(LIBS)

# Test tools: stand-alone programs the suites run (noperf, perfopen, dbcheck,
# dr6probe, ...); they use neither libhwbp nor its headers.
$(O)/tests/tools/%: tests/tools/%.c tests/tools/rawbp.h tests/lostdb.h
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $(STATIC_FLAG) -o $@ $<

# Target programs: what users watch. Built without sanitizers, with -g, at
# -O0 and -O2, PIE and not.
TGT_CFLAGS := -std=gnu11 -g -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) $(if $(findstring clang,$(CC)),,-fno-inline-functions-called-once)
$(O)/tests/targets/%-O0: tests/targets/%.c $(TARGET_LIBS) tests/lostdb.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TGT_CFLAGS) -O0 -pie -fPIE -o $@ $< -L$(O)/tests/targets -Wl,-rpath,'$$ORIGIN' -lpthread -ldl
$(O)/tests/targets/%-O2: tests/targets/%.c $(TARGET_LIBS) tests/lostdb.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TGT_CFLAGS) -O2 -pie -fPIE -o $@ $< -L$(O)/tests/targets -Wl,-rpath,'$$ORIGIN' -lpthread -ldl
$(O)/tests/targets/%-O0-nopie: tests/targets/%.c $(TARGET_LIBS) tests/lostdb.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TGT_CFLAGS) -O0 -no-pie -fno-PIE -o $@ $< -L$(O)/tests/targets -Wl,-rpath,'$$ORIGIN' -lpthread -ldl
$(O)/tests/targets/%-O2-nopie: tests/targets/%.c $(TARGET_LIBS) tests/lostdb.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TGT_CFLAGS) -O2 -no-pie -fno-PIE -o $@ $< -L$(O)/tests/targets -Wl,-rpath,'$$ORIGIN' -lpthread -ldl
$(O)/tests/targets/lib%.so: tests/targets/lib%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TGT_CFLAGS) -O1 -shared -fPIC -o $@ $<

# The workload of bench/cli is a plain program, as users' programs are, and
# not PIE: perf's and bpftrace's mem:ADDR events need a fixed address.
$(O)/bench/writer: bench/writer.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(TGT_CFLAGS) -O2 -no-pie -fno-PIE -o $@ $<

# The workload of bench/guard, the same way (its watched page is laid out in
# assembly, so no compiler flag orders it).
$(O)/bench/gwriter: bench/gwriter.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(TGT_CFLAGS) -O2 -no-pie -fno-PIE -o $@ $<

$(O)/bench/%: bench/%.c $(O)/libhwbp.a $(HDRS)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) -o $@ $< $(O)/libhwbp.a $(LIBS)

bench-progs: $(BENCH_BINS)
tests: version-check all $(UNIT_BINS) $(HW_BINS) $(TOOL_BINS) $(TARGET_BINS) $(TARGET_LIBS)
hw-tests: $(O)/hwbp $(HW_BINS) $(TOOL_BINS)

deps:
	$(Q)tools/deps.sh

# make check: dependencies, build, then every suite through one TAP runner.
# The runner prints one line per test and ends with "N passed, N failed".
check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)tools/run-tests --build $(O) --suites "unit hw cli san valgrind cross arm64 x86"

check-unit check-hw check-cli check-valgrind: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)tools/run-tests --build $(O) --suites $(@:check-%=%)

check-cross: deps
	$(Q)tools/run-tests --build $(O) --suites cross

check-arm64: deps
	$(Q)tools/run-tests --build $(O) --suites arm64

check-x86: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)tools/run-tests --build $(O) --suites x86

demo: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tools/demo $(O)

bench: all $(BENCH_BINS) $(TARGET_BINS)
	$(Q)tools/deps.sh bench
	$(Q)bench/run $(O)

lint:
	$(Q)tools/lint

version-check:
	$(Q)tools/version-check

# --- install -----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/hwbp \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(O)/hwbp $(DESTDIR)$(BINDIR)/hwbp
	install -m 644 $(O)/libhwbp.a $(DESTDIR)$(LIBDIR)/libhwbp.a
	install -m 755 $(O)/libhwbp.so $(DESTDIR)$(LIBDIR)/libhwbp.so.$(VERSION)
	ln -sf libhwbp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libhwbp.so
	install -m 644 include/hwbp/hwbp.h $(DESTDIR)$(INCLUDEDIR)/hwbp/hwbp.h
	install -m 644 $(O)/libhwbp.pc $(DESTDIR)$(PKGCONFIGDIR)/libhwbp.pc
	install -m 644 docs/hwbp.1 $(DESTDIR)$(MANDIR)/man1/hwbp.1
	install -m 644 docs/libhwbp.3 $(DESTDIR)$(MANDIR)/man3/libhwbp.3

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hwbp $(DESTDIR)$(LIBDIR)/libhwbp.a \
		$(DESTDIR)$(LIBDIR)/libhwbp.so* $(DESTDIR)$(INCLUDEDIR)/hwbp/hwbp.h \
		$(DESTDIR)$(PKGCONFIGDIR)/libhwbp.pc $(DESTDIR)$(MANDIR)/man1/hwbp.1 \
		$(DESTDIR)$(MANDIR)/man3/libhwbp.3

clean:
	rm -rf $(O) build-*
