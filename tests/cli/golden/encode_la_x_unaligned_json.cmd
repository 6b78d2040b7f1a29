$HWBP encode --arch loongarch64 --json x:0x120000a2c x:0x401002
