$HWBP encode --arch x86_64 --json x:0x401136
