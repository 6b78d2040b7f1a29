$HWBP encode --arch x86_64 --json w:0x1003/6 rw:0x2000/8
