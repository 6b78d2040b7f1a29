$HWBP encode --arch arm64 --json w:0x1006/4 r:0x2000/8 x:0x400580
