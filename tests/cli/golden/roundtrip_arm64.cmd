regs=$($HWBP encode --arch arm64 w:0x1003/9 | sed -n "s/^  regs: //p"); $HWBP decode --arch arm64 $regs
