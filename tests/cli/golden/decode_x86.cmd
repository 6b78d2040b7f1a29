$HWBP decode --arch x86_64 dr0=0x1000 dr1=0x2002 dr7=0x007d0005
