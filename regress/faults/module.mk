# regress/faults: castrad as a dependable service.  Processes killed at
# rest and mid-operation, full disks, corrupt and stale state files,
# concurrent ups and a stepped clock, all with real guests.
REGRESS_SH +=	faults/faults_kill faults/faults_state faults/faults_disk

# Helpers that the scripts (and regress/load's) source.
REGRESS_PROGS +=	$(B)/regress/faults/common.sh
$(B)/regress/faults/common.sh: regress/faults/common.sh
	@mkdir -p $(dir $@)
	cp $< $@
REGRESS_PROGS +=	$(B)/regress/faults/slowhttpd.py
$(B)/regress/faults/slowhttpd.py: regress/faults/slowhttpd.py
	@mkdir -p $(dir $@)
	cp $< $@
