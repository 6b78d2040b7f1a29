$HWBP decode --arch loongarch64 --json db0addr=0x1004 db0ctrl=0x610 ib0addr=0x120000a2c ib0ctrl=0x10
