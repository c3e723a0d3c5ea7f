from auditwire.cli import main

main()
