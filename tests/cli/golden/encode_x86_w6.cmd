$HWBP encode --arch x86_64 w:0x1003/6
