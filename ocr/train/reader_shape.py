"""The plate reader's crop and output shape (ocr/reader.h)."""
RH, RW = 32, 128  # LPR_READ_H_PX, LPR_READ_W_PX
STEPS = RW // 4  # LPR_READ_STEPS: output columns
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # LPR_READ_ALPHABET
BLANK = len(ALPHABET)  # CTC's blank, the last class
CLASSES = BLANK + 1  # LPR_READ_CLASSES
MAX_TEXT = 10  # longest text trained on
