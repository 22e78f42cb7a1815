# guest/: castra-agent, built static to run in any Linux guest, and the
# recipe for the default guest image.
#
#	make image		$(B)/image/{vmlinuz,initrd.img,rootfs.qcow2}
#				and default-image.conf (file:// urls there)
#	make install-image	the same under $(DATADIR)/image
#
# The packages are downloaded once into $(B)/image/debs; remove that
# directory to pick up a newer kernel.

# Rules below must not become the default goal.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL :=	all
endif

AGENT =			$(B)/guest/castra-agent
AGENT_SRCS =		guest/castra-agent.c guest/agentproto.c guest/agentboot.c
AGENT_CFLAGS =		-O2 $(WARNINGS) -D_GNU_SOURCE
IMAGE_DIR =		$(B)/image
IMAGE_DEBS =		$(IMAGE_DIR)/debs
IMAGE_FILES =		$(IMAGE_DIR)/vmlinuz $(IMAGE_DIR)/initrd.img \
			$(IMAGE_DIR)/rootfs.qcow2 \
			$(IMAGE_DIR)/default-image.conf
IMAGE_INPUTS =		guest/mkimage.sh guest/mkcpio.py \
			guest/initramfs-init guest/rootfs-init $(AGENT)

.PHONY: install-image

# No libcastra and none of the host's libraries: the guest has only
# its kernel and this binary.
$(AGENT): $(AGENT_SRCS) guest/agent.h
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -static -s -o $@ $(AGENT_SRCS) -lmd

$(IMAGE_DEBS)/.fetched:
	sh guest/mkimage.sh fetch $(IMAGE_DEBS)
	touch $@

$(IMAGE_FILES) &: $(IMAGE_INPUTS) $(IMAGE_DEBS)/.fetched
	sh guest/mkimage.sh build $(IMAGE_DIR) $(IMAGE_DEBS) $(AGENT) guest

image: $(IMAGE_FILES)

install-image: $(IMAGE_FILES)
	install -d $(DESTDIR)$(DATADIR)/image
	install -m 644 $(IMAGE_DIR)/vmlinuz $(IMAGE_DIR)/initrd.img \
	    $(IMAGE_DIR)/rootfs.qcow2 $(DESTDIR)$(DATADIR)/image/
	install -m 755 $(AGENT) $(DESTDIR)$(DATADIR)/image/
	sh guest/mkimage.sh conf $(IMAGE_DIR) $(DATADIR)/image \
	    >$(DESTDIR)$(DATADIR)/image/default-image.conf
