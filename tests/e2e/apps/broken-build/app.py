print("this app never builds")
