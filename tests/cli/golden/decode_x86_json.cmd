$HWBP decode --arch x86_64 --json dr0=0x1003 dr1=0x1004 dr2=0x1008 dr7=0x1d10015
