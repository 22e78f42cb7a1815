# regress/system: castrad as a system service shared by several users.
REGRESS_SH +=	system/system_test system/owner_test system/unit_test \
		system/links_test

# Helpers that the scripts source from their own directory.
REGRESS_PROGS +=	$(B)/regress/system/common.sh
$(B)/regress/system/common.sh: regress/system/common.sh
	@mkdir -p $(dir $@)
	cp $< $@
