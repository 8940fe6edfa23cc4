print("wick")
