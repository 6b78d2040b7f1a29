$HWBP encode --arch x86_64 r:0x1000/8
