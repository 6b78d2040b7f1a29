$HWBP encode --arch arm64 w:0x1006/4
