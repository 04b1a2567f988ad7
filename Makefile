# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# o11y-ebpf build: bpf/*.bpf.c -> .output/*.bpf.o -> .output/*.skel.h -> user objects -> build/o11y-ebpf
OUTPUT   := .output
BUILD    := build
BIN      := $(BUILD)/o11y-ebpf
CLANG    ?= clang
BPFTOOL  ?= bpftool
PROTOC_C ?= protoc-c
CC       ?= cc
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
prefix   ?= /usr/local
DESTDIR  ?=

WERROR   := $(if $(CI),-Werror,)
CFLAGS   ?= -g -O2
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(WERROR) -std=gnu11 -pthread
CPPFLAGS += -I$(OUTPUT) -Iinclude -Iuser -MMD -MP -DO11Y_VERSION='"$(VERSION)"' -D_GNU_SOURCE
BPF_CFLAGS := -g -O2 -Wall $(WERROR) -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH) -Ibpf -MMD -MP
LDLIBS   += -lbpf -lelf -lz -ldeflate -lcurl -lprotobuf-c -lmicrohttpd -ljson-c -lpthread -lm

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
PROTOS    := $(wildcard proto/*.proto)
PB_SRCS   := $(patsubst proto/%.proto,$(OUTPUT)/%.pb-c.c,$(PROTOS))
PB_OBJS   := $(PB_SRCS:.c=.o)
USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# objects usable without libbpf and root: everything but main and the loaders
LIB_OBJS  := $(filter-out $(OUTPUT)/user/main.o $(OUTPUT)/user/loader%.o,$(USER_OBJS)) $(PB_OBJS)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/bpf_%,$(BPFT_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all deps run test unit-test bpf-test integration-test install clean format bench image-check
all: $(BIN)

.SECONDARY:

# Debian 12 packages the build, the tests and the benchmarks need; installs only what is missing.
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcurl4-openssl-dev libdeflate-dev \
	libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libmicrohttpd-dev libcmocka-dev \
	pkg-config make gcc git iproute2 curl python3 nginx-light prometheus \
	prometheus-node-exporter wrk util-linux procps libjson-c-dev python3-yaml debootstrap systemd openssl \
	qemu-system-x86 busybox-static cpio
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(BUILD):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.pb-c.c $(OUTPUT)/%.pb-c.h: proto/%.proto | $(OUTPUT)
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(OUTPUT) $<

$(OUTPUT)/%.pb-c.o: $(OUTPUT)/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter $(CPPFLAGS) -c $< -o $@

# every user object waits for the generated headers (skeletons, protobuf) it may include
$(OUTPUT)/user/%.o: user/%.c $(SKELS) $(PB_SRCS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

$(BIN): $(USER_OBJS) $(PB_OBJS) | $(BUILD)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

$(OUTPUT)/tests/bpf_%: tests/bpf/%.c $(SKELS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) $< $(LDLIBS) -lcmocka -o $@

run: deps all
	./$(BIN) --print-spans=text

unit-test: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

bpf-test: $(BPFT_BINS)
	@set -e; for t in $(BPFT_BINS); do echo "== $$t"; $$t; done

integration-test: $(BIN)
	@tests/integration/run-all.sh

test: deps all unit-test bpf-test integration-test

# bench/pagecache's floor: an empty program on the tracepoint every file read runs
$(OUTPUT)/pc_floor.bpf.o: bench/pagecache/pc_floor.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/pc-floor: bench/pagecache/pc_floor.c $(OUTPUT)/pc_floor.skel.h | $(BUILD)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) $< -lbpf -lelf -lz -o $@

bench: $(BIN) $(BUILD)/pc-floor
	@for b in bench/*/run; do echo "== $$b"; $$b; done

# the binary, the systemd unit (its ExecStart pointed at the binary) and, unless one is there
# already (an upgrade keeps the admin's settings), /etc/default/o11y-ebpf
sysconfdir ?= /etc
unitdir    ?= $(prefix)/lib/systemd/system
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(prefix)/sbin/o11y-ebpf
	install -d $(DESTDIR)$(unitdir)
	sed 's|@SBINDIR@|$(prefix)/sbin|' deploy/systemd/o11y-ebpf.service.in \
		> $(DESTDIR)$(unitdir)/o11y-ebpf.service
	chmod 0644 $(DESTDIR)$(unitdir)/o11y-ebpf.service
	[ -e $(DESTDIR)$(sysconfdir)/default/o11y-ebpf ] || \
		install -D -m 0644 deploy/systemd/o11y-ebpf.default $(DESTDIR)$(sysconfdir)/default/o11y-ebpf

# the Containerfile's runtime packages are enough: a debootstrap'ed root (cached) runs the binary
image-check: $(BIN)
	@deploy/image-check.sh $(BIN) $(OUTPUT)

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h include/o11y/*.h tests/unit/*.c

clean:
	rm -rf $(OUTPUT) $(BUILD)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*.d)
