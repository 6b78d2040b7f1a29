$HWBP encode --arch arm64 x:0x401001/1
